import { resolve } from 'node:path';
import { isBackboneEngine, isBackendName, isInsecureFlag, parseOrtProviders, parseVariants, snapshotTrust, type BackboneEngine, type BackendName, type SnapshotTrust, type VariantSpec } from '@reco/model';
import { readKafkaConfig, readLogSettings, type KafkaConfig, type LogSettings } from '@reco/stream';

export type { VariantSpec };

export interface TrainingSettings {
  readonly batchSize: number;
  /** Fresh examples per step (the rest of the batch is replayed): fewer means more steps per click. */
  readonly freshPerStep: number;
  readonly learningRate: number;
  readonly publishIntervalMs: number;
  readonly publishMaxSteps: number;
  readonly sideCapacity: number;
  readonly seed: number;
  /** The validation gate's margin: a candidate whose holdout loss exceeds the live one's by more is refused. */
  readonly gateMaxLossIncrease: number;
  readonly gateMaxRankingDrop: number;
  /** Fresh clicks each candidate is tried on against live before it is published; 0 = holdout gate only. */
  readonly gateShadowClicks: number;
  /** Fraction of the way back to the starting parameters each step takes (OnlineTrainer.anchorPull); 0 = none. */
  readonly anchorPull: number;
  /** How the co-visit memory's weight is set (OnlineTrainer.memoryWeightBy); absent = the trainer's default, ranking. */
  readonly memoryWeightBy?: 'ranking' | 'loss';
}

export interface UpdaterConfig {
  readonly host: string;
  /** Port of the updater's own HTTP server (/healthz, /metrics). */
  readonly port: number;
  /** LOG_LEVEL and RECO_LOG_PRETTY (readLogSettings in @reco/stream). */
  readonly log: LogSettings;
  readonly kafka: KafkaConfig;
  readonly topicPrefix: string;
  readonly groupId: string;
  /** How long the group waits for a silent member before handing its partitions to another. */
  readonly sessionTimeoutMs: number;
  /** How long the lease group waits for a silent active updater before a standby takes over. */
  readonly leaseSessionTimeoutMs: number;
  /** Events per partition re-read below the resume offsets to rebuild user histories after a restart. */
  readonly historyLookback: number;
  /** How long a graceful stop (finish the step, publish, leave the group) may take before exiting anyway. */
  readonly shutdownTimeoutMs: number;
  readonly backboneDir: string;
  readonly tfBackend: BackendName | undefined;
  /** How the frozen backbone runs for `ladder` (and the cache every ladder variant shares). */
  readonly backboneEngine: BackboneEngine;
  readonly ortThreads: number;
  readonly ortProviders: readonly string[];
  readonly backboneCacheEntries: number;
  readonly variants: readonly VariantSpec[];
  readonly training: TrainingSettings;
  /** RECO_SNAPSHOT_KEY (hex, >= 32 bytes; signs what it publishes, verifies what it resumes from) or RECO_SNAPSHOT_INSECURE=1. */
  readonly snapshotTrust: SnapshotTrust;
}

/**
 * The only place the updater reads its environment: once, at start-up, with defaults and an error
 * naming the variable when a value is impossible. Everything else receives slices of this.
 *
 *   RECO_VARIANTS     comma list of `name` or `name:method` (default `ladder`); e.g. `ladder,lora,b:bitfit`
 *   RECO_BACKBONE_DIR checkpoint folder (default .cache/backbones/synthetic under the working directory,
 *                     where `npm run pretrain -- --data synthetic` writes it)
 *   RECO_TOPIC_PREFIX prefix for every topic name (default none)
 *   RECO_GROUP_ID     consumer group (default reco-updater)
 *   RECO_SESSION_TIMEOUT_MS  group session timeout (default 30000; the broker allows 6000 and up)
 *   RECO_LEASE_SESSION_TIMEOUT_MS  how long a silent active updater keeps the lease of its variants
 *                     before a standby takes over (default 10000; the broker allows 6000 and up)
 *   RECO_HISTORY_LOOKBACK    events per partition re-read (not trained) to rebuild histories on start (default 2000)
 *   RECO_SHUTDOWN_TIMEOUT_MS how long a graceful stop may take before the process exits anyway (default 20000)
 *   RECO_PUBLISH_INTERVAL_MS / RECO_PUBLISH_MAX_STEPS  publish every N ms or M steps (5000 / 200)
 *   RECO_BATCH_SIZE (64), RECO_FRESH_PER_STEP (32), RECO_LEARNING_RATE, RECO_SIDE_CAPACITY, RECO_SEED
 *   RECO_GATE_MAX_LOSS_INCREASE  validation gate margin in nats (default 0.5, see below)
 *   RECO_GATE_MAX_RANKING_DROP   largest holdout HR@10/NDCG@10 drop below live that is published (default 0.01)
 *   RECO_GATE_SHADOW_CLICKS      fresh clicks a candidate is ranked on beside live before it may be published (default 0 = off)
 *   RECO_ANCHOR_PULL             fraction of the way back to the starting parameters each step takes (default 0 = none)
 *   RECO_MEMORY_WEIGHT           ranking | loss: the co-visit memory's weight is chosen by holdout NDCG@10 at each
 *                                publish attempt (default) or trained with the loss
 *   RECO_TF_BACKEND   tensorflow-gpu | tensorflow | wasm | cpu (default: first that loads)
 *   RECO_BACKBONE_ENGINE  auto | onnx | tfjs: what runs the frozen backbone for ladder (default auto:
 *                     ONNX Runtime where it loads, else TF.js with a logged reason)
 *   RECO_ORT_THREADS  ONNX Runtime intra-op threads (default 1)
 *   RECO_ORT_PROVIDERS  ONNX Runtime execution providers, best first (default cpu; e.g. cuda,cpu:
 *                     one that cannot load is skipped with the reason logged)
 *   RECO_BACKBONE_CACHE_ENTRIES  backbone outputs kept per sequence, shared by ladder variants (default 20000; 0 = off)
 *   RECO_SNAPSHOT_KEY  shared snapshot signing key, hex, at least 32 bytes (required; `npm start` makes one)
 *   RECO_SNAPSHOT_INSECURE=1  run without signing or verifying snapshots (development only, logged as a warning)
 *   LOG_LEVEL         trace | debug | info | warn | error | fatal | silent (default info)
 *   RECO_LOG_PRETTY   1 or 0: pretty lines or JSON (default: pretty exactly when stdout is a terminal)
 *   PORT, HOST, and the KAFKA_* settings of @reco/stream
 */
export function readUpdaterConfig(env: Readonly<Record<string, string | undefined>>): UpdaterConfig {
  const port = integer(env, 'PORT', 9464, 0, 65535);
  const backend = env.RECO_TF_BACKEND?.trim();
  if (backend && !isBackendName(backend)) throw new Error(`RECO_TF_BACKEND must be one of tensorflow-gpu, tensorflow, wasm, cpu; got "${backend}"`);
  const engine = env.RECO_BACKBONE_ENGINE?.trim() || 'auto';
  if (!isBackboneEngine(engine)) throw new Error(`RECO_BACKBONE_ENGINE must be one of auto, onnx, tfjs; got "${engine}"`);
  return Object.freeze({
    host: env.HOST ?? '127.0.0.1',
    port,
    log: readLogSettings(env),
    kafka: readKafkaConfig(env, { defaultClientId: 'reco-updater' }),
    topicPrefix: env.RECO_TOPIC_PREFIX ?? '',
    groupId: env.RECO_GROUP_ID ?? 'reco-updater',
    sessionTimeoutMs: integer(env, 'RECO_SESSION_TIMEOUT_MS', 30_000, 6000, 300_000),
    // Shorter than the events group's: it bounds how long a kill -9'd active leaves its variants
    // untrained (a standby takes over within about this plus its start-up), and the lease consumer
    // heartbeats on its own, so a long training batch never makes it look silent.
    leaseSessionTimeoutMs: integer(env, 'RECO_LEASE_SESSION_TIMEOUT_MS', 10_000, 6000, 300_000),
    historyLookback: integer(env, 'RECO_HISTORY_LOOKBACK', 2000, 0, 10_000_000),
    shutdownTimeoutMs: integer(env, 'RECO_SHUTDOWN_TIMEOUT_MS', 20_000, 1000, 600_000),
    backboneDir: resolve(env.RECO_BACKBONE_DIR ?? '.cache/backbones/synthetic'),
    tfBackend: backend ? (backend as BackendName) : undefined,
    backboneEngine: engine,
    ortThreads: integer(env, 'RECO_ORT_THREADS', 1, 1, 64),
    ortProviders: Object.freeze(parseOrtProviders(env.RECO_ORT_PROVIDERS)),
    backboneCacheEntries: integer(env, 'RECO_BACKBONE_CACHE_ENTRIES', 20_000, 0, 10_000_000),
    variants: Object.freeze(parseVariants(env.RECO_VARIANTS ?? 'ladder')),
    training: Object.freeze({
      batchSize: integer(env, 'RECO_BATCH_SIZE', 64, 1, 4096),
      // Half of each batch fresh, half replayed: the mix the evaluation measured (npm run eval).
      freshPerStep: integer(env, 'RECO_FRESH_PER_STEP', 32, 1, 4096),
      learningRate: number(env, 'RECO_LEARNING_RATE', 5e-3),
      publishIntervalMs: integer(env, 'RECO_PUBLISH_INTERVAL_MS', 5000, 1, 86_400_000),
      publishMaxSteps: integer(env, 'RECO_PUBLISH_MAX_STEPS', 200, 1, 1_000_000),
      sideCapacity: integer(env, 'RECO_SIDE_CAPACITY', 1000, 0, 10_000_000),
      seed: integer(env, 'RECO_SEED', 1, 0, 2 ** 31 - 1),
      // The gate is there to stop broken parameters (divergence, NaN), not drift: after a new
      // item's burst the holdout loss of a healthy candidate rose by 0.19-0.28 nats (the refusals
      // the updater logs in test/new-item.e2e.test.ts with a 0.05 margin), while the over-trained
      // ladder under slow traffic rose by 0.5-1.3 (`npm start` logs before the full-step fix).
      gateMaxLossIncrease: number(env, 'RECO_GATE_MAX_LOSS_INCREASE', 0.5),
      // The largest drop of holdout HR@10 or NDCG@10 (full ranking, seen items excluded) below
      // the live snapshot's that is still published; the sampled loss says nothing about the
      // full ranking users get. See GateConfig.maxRankingDrop.
      gateMaxRankingDrop: number(env, 'RECO_GATE_MAX_RANKING_DROP', 0.01),
      // Off by default: on MovieLens a trial on the next 100 clicks mostly sees the same user's
      // session continue, so it passed candidates that then ranked later users worse, and it holds
      // a candidate back until enough clicks arrive (docs/online-ablation.md).
      gateShadowClicks: integer(env, 'RECO_GATE_SHADOW_CLICKS', 0, 0, 1_000_000),
      // Off by default: 0.01 lifted ladder on MovieLens but stopped prompt tuning from learning
      // the synthetic world's drift (docs/online-ablation.md).
      anchorPull: fraction(env, 'RECO_ANCHOR_PULL', 0),
      memoryWeightBy: memoryWeightBy(env.RECO_MEMORY_WEIGHT),
    }),
    snapshotTrust: snapshotTrust(env.RECO_SNAPSHOT_KEY, isInsecureFlag(env.RECO_SNAPSHOT_INSECURE)),
  });
}

function memoryWeightBy(raw: string | undefined): 'ranking' | 'loss' {
  const value = raw === undefined || raw.trim() === '' ? 'ranking' : raw.trim();
  if (value !== 'ranking' && value !== 'loss') throw new Error(`RECO_MEMORY_WEIGHT must be ranking or loss, got "${raw}"`);
  return value;
}

function integer(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return value;
}

function fraction(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${name} must be a number in [0, 1], got "${raw}"`);
  return value;
}

function number(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}
