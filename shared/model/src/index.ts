// Public API of @reco/model. Call initBackend() once at start-up, before creating tensors: it
// picks the backend and registers the gradients the model trains through (see gradients.ts).
export { BACKEND_ORDER, initBackend, isBackendName, type BackendChoice, type BackendName, type InitBackendOptions } from './backend.js';
export { registerGradients } from './gradients.js';
export { embeddingLookup } from './embedding-lookup.js';
export { matMul } from './matmul.js';
export { softmaxCrossEntropy } from './softmax-cross-entropy.js';

export {
  DEFAULT_BACKBONE_SHAPE,
  FIRST_ITEM_ID,
  PAD_ID,
  UNK_ID,
  backboneWeightSpecs,
  countParameters,
  validateBackboneConfig,
  vocabSize,
  type BackboneConfig,
  type WeightKind,
  type WeightSpec,
} from './backbone-config.js';
export type { BackboneModifiers } from './backbone-modifiers.js';
export { Backbone, type BackboneOutput } from './backbone.js';
export { TfjsBackboneRunner, type BackboneRunOutput, type BackboneRunner } from './backbone-runner.js';
export { BatchingBackboneRunner, type BatchingRunnerOptions } from './batching-runner.js';
export { MicroBatcher, type MicroBatchOptions } from './micro-batcher.js';
export { CachedBackboneRunner, countLookupsInto, type CacheStats, type CachedRunnerOptions } from './cached-runner.js';
export { PlainScorer } from './plain-scoring.js';
/** A row of the training step benchmark (`bench:train`'s first table), for the script that runs it. */
export type { BenchRow as StepBenchRow } from './cli/bench-method.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  CheckpointError,
  MANIFEST_FILE,
  WEIGHTS_FILE,
  loadCheckpoint,
  readCheckpointManifest,
  saveCheckpoint,
  type CheckpointManifest,
  type LoadedCheckpoint,
  type TensorIndexEntry,
} from './checkpoint.js';
export { ItemCatalogue } from './item-catalogue.js';
export { encodeSequences, type SequenceBatch } from './sequence-batch.js';
export { CO_VISIT_WEIGHT, SIDE_BIAS, SIDE_EMBEDDING, SideItemParameters } from './side-items.js';
export { CoVisits, DEFAULT_CO_VISITS, NO_SCORES, type CoVisitOptions, type SparseScores } from './co-visits.js';
export { ItemCoVisits, MEMORY_SCALE, MEMORY_SLOTS, addMemory, candidateMemory, memoryOf } from './co-visit-memory.js';
export { UserHistories } from './user-histories.js';

export {
  METHOD_NAMES,
  isMethodName,
  type AdaptationMethod,
  type MethodName,
  type NamedTensor,
  type ParameterCount,
  type PreparedInput,
  type SerializedAdaptation,
} from './adaptation/adaptation-method.js';
export { createAdaptation, restoreAdaptation, snapshotConfig, type AdaptationConfig } from './adaptation/create-adaptation.js';
export { LadderMethod, type LadderOptions } from './adaptation/ladder.js';
export { BitFitMethod } from './adaptation/bitfit.js';
export { LoraMethod, type LoraOptions } from './adaptation/lora.js';
export { AdapterMethod, type AdapterOptions } from './adaptation/adapter.js';
export { PromptMethod, type PromptOptions } from './adaptation/prompt.js';
export { FrozenMethod } from './adaptation/frozen.js';
export { FullFineTuneMethod } from './adaptation/full.js';

export { candidateSet, sampledSoftmaxLoss, type CandidateSet } from './sampled-softmax-loss.js';
export {
  OnlineTrainer,
  type OnlineTrainerOptions,
  type PublishOutcome,
  type StepResult,
  type TrainerSnapshot,
  type TrainingExample,
} from './online-trainer.js';
export { StreamClock, median, replayStream, type StreamReplayOptions, type StreamReplayReport } from './stream-replay.js';
export {
  DEFAULT_PRETRAIN,
  pretrainBackbone,
  type PretrainSettings,
  type PretrainEpoch,
  type PretrainOptions,
  type PretrainResult,
  type PretrainStep,
} from './pretrain.js';

export {
  RANKING_CUTOFF,
  RankingAccumulator,
  fullRank,
  hitAtK,
  ndcgAtK,
  reciprocalRank,
  sampledRank,
  topK,
  type RankingProtocol,
  type RankingSummary,
  type SlotFilter,
} from './ranking-metrics.js';
export {
  MISS_RANK,
  NOT_ITEMS,
  ProtocolAccumulator,
  SERVING_PROTOCOL,
  competitorsExcluded,
  describeProtocol,
  evaluateCases,
  exclusionFor,
  leaveOneOut,
  rankTarget,
  type BatchRanker,
  type EvaluationProtocol,
  type LeaveOneOut,
  type ProtocolSummary,
  type RankingCase,
} from './evaluation/protocol.js';
export type { Baseline } from './evaluation/baseline.js';
export { PopularityBaseline } from './evaluation/popularity-baseline.js';
export { ItemKnnBaseline, type ItemKnnOptions } from './evaluation/item-knn-baseline.js';
export { MarkovBaseline } from './evaluation/markov-baseline.js';
export { ITEM_KNN_RECENT_GRID, baselineRanker, bestBaseline, classicBaselines, evaluateBaselines, fitBaseline, type BaselineRow } from './evaluation/baseline-suite.js';
export { replayBaselines, type BaselineReplay, type BaselineReplayOptions } from './evaluation/prequential-baselines.js';
export { EVALUATION_NEGATIVES, NegativeSampler, type NegativeSamplerOptions } from './negative-sampler.js';
export { ReplayBuffer, type ReplayBufferOptions } from './replay-buffer.js';
export { PrequentialTracker, type PrequentialFigures, type PrequentialOptions, type PrequentialWindow } from './prequential.js';
export { publishDecision, type PublishDecision, type PublishPolicy, type PublishReason, type PublishState } from './publish-policy.js';
export { pairedRankingNoise, validateCandidate, type GateConfig, type GateDecision, type GateFigures, type GateInput, type GateRejection, type HoldoutRanking, type RankingNoise } from './validation-gate.js';
// The one owner of snapshots: build, sign, verify, decode, check (docs/snapshots.md).
export {
  SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_MAGIC,
  SnapshotFormatError,
  openSnapshot,
  sealSnapshot,
  type AdapterSnapshot,
  type OpenRefusal,
  type OpenedSnapshot,
  type RollbackNote,
  type SnapshotMeta,
  type SnapshotTensor,
} from './snapshot/snapshot-wire.js';
export { MIN_SNAPSHOT_KEY_BYTES, SnapshotKeyError, isInsecureFlag, snapshotTrust, type SnapshotTrust } from './snapshot/snapshot-key.js';
export {
  adaptationOf,
  buildSnapshot,
  checkSnapshot,
  expectationsFor,
  type CheckedSnapshot,
  type ContentRefusal,
  type SnapshotExpectations,
  type SnapshotStamp,
  type VariantBounds,
} from './snapshot/snapshot-content.js';
export { SNAPSHOT_REFUSALS, readSnapshot, type ReadSnapshot, type SnapshotRefusal } from './snapshot/read-snapshot.js';
export { parseVariants, type VariantSpec } from './adaptation/variant-spec.js';
export * from './onnx/index.js';
