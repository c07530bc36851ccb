import * as tf from '@tensorflow/tfjs-core';
import { type Interaction, type Rng, createRng } from '@reco/data';
import type { AdaptationMethod, SerializedAdaptation } from './adaptation/adaptation-method.js';
import { createAdaptation, snapshotConfig } from './adaptation/create-adaptation.js';
import { LadderMethod } from './adaptation/ladder.js';
import { FIRST_ITEM_ID } from './backbone-config.js';
import { addMemory, candidateMemory, memoryOf } from './co-visit-memory.js';
import { CoVisits, type SparseScores } from './co-visits.js';
import { chooseMemoryWeight, type MemoryRankingCase } from './memory-weight-choice.js';
import { NegativeSampler } from './negative-sampler.js';
import { PrequentialTracker } from './prequential.js';
import { type PublishPolicy, publishDecision } from './publish-policy.js';
import { type EvaluationProtocol, SERVING_PROTOCOL, exclusionFor, rankTarget } from './evaluation/protocol.js';
import { RankingAccumulator } from './ranking-metrics.js';
import { ReplayBuffer } from './replay-buffer.js';
import { type CandidateSet, type LossExtras, candidateSet, negativeMask, sampledSoftmaxLoss, sampledSoftmaxLossAt } from './sampled-softmax-loss.js';
import { prepareExamples } from './example-inputs.js';
import { registerGradients } from './gradients.js';
import { UserHistories } from './user-histories.js';
import { ShadowTrial, type ShadowVerdict } from './shadow-trial.js';
import { type GateConfig, type GateDecision, pairedRankingNoise, validateCandidate } from './validation-gate.js';

/**
 * Online (test-then-train) training of one adaptation method over a click stream.
 *
 * `observe(event)` only books the event: it resolves the item's slot (a new item gets a side
 * slot), turns "user history -> clicked item" into an example and extends the history. The
 * example is *scored* by the current parameters in the next `evaluatePending()` (which
 * `trainStep()` calls first), feeding prequential HR@10/NDCG@10, and only then trained on.
 * Every `holdoutEvery`-th scored example goes to a rolling holdout instead of training; the
 * validation gate compares candidate and live parameters on it with the same fixed negatives.
 *
 * Loss: sampled softmax over the batch's targets plus `negatives` catalogue items drawn
 * uniformly by NegativeSampler (BPR with one negative learns far slower per step, and a softmax
 * is what ranking by score rewards), leaving out of each example's softmax the user's own items
 * and their other clicks in the batch (negativeMask). Scores add the co-visit memory the trainer
 * counts from the stream (co-visit-memory.ts), in ranking and in the loss alike.
 * Optimiser: Adam over exactly `method.trainableVariables()`.
 */
export interface TrainingExample {
  userId: string;
  /** Catalogue slots before the click, oldest first (at most maxLen). */
  history: number[];
  /** -1 for an item the catalogue refused (a full side table): scored as a miss, never trained. */
  target: number;
  ts: number;
  newItem: boolean;
  /** Distinct items the user had before this click: what the protocol excludes when scoring it. */
  seenCount: number;
  /** Ladder only: the frozen backbone's last-position outputs [userState, ...blocks], computed once. */
  features?: Float32Array[];
  /** The co-visit memory of the history, from the counts as they stood before this click. */
  memory: SparseScores;
}

export interface OnlineTrainerOptions {
  method: AdaptationMethod;
  /** sha256 of the backbone weights, stamped on snapshots. */
  backboneId: string;
  seed?: number;
  /** Examples per training step (fresh + replayed). */
  batchSize?: number;
  /** Fresh examples per step; the rest of the batch is replayed. Default batchSize / 2. */
  freshPerStep?: number;
  /** Adam learning rate of the method's own parameters. */
  learningRate?: number;
  /**
   * Adam learning rate of the shared side table and bias. Higher than the method's: a new item
   * must climb from score 0 into the top 10 within a burst of a few dozen steps, while the
   * method's parameters reshape the backbone's function and diverge at such rates.
   */
  sideLearningRate?: number;
  /** The side table's optimiser (see DEFAULTS for why it is not Adam). */
  sideOptimizer?: 'adam' | 'adagrad' | 'sgd';
  negatives?: number;
  replayCapacity?: number;
  maxUsers?: number;
  holdoutEvery?: number;
  holdoutCapacity?: number;
  prequentialWindow?: number;
  publishPolicy?: PublishPolicy;
  gate?: GateConfig;
  /**
   * Fresh clicks a candidate that passed the holdout gate is tried on before it is published
   * (see ShadowTrial): each is ranked by live and by the candidate, and the candidate goes out
   * only if it ranked them at least as well. 0 publishes on the holdout gate alone. Needs
   * `scoreWith: 'published'`.
   */
  shadowClicks?: number;
  /**
   * How the co-visit memory's weight w is set: 'ranking' (default) chooses it at each publish
   * attempt as the weight that ranks the rolling holdout best (memory-weight-choice.ts), and no
   * gradient moves it; 'loss' trains it with the other side parameters.
   */
  memoryWeightBy?: 'ranking' | 'loss';
  /**
   * Fraction of the way back to the starting parameters that every step takes, after the
   * optimiser's update (0 = none): what the recent clicks stop supporting decays back to the
   * backbone's own ranking instead of lingering after the users it was learned from are gone.
   * New items' embeddings are exempt: their start (zero) is no knowledge to return to.
   */
  anchorPull?: number;
  /** How clicks are ranked for the prequential figures and the gate (default: seen items excluded). */
  protocol?: EvaluationProtocol;
  /**
   * Which parameters rank each click before it is learned: 'published' (default) is what serving
   * would have answered with, the last snapshot the gate let through (identity before the
   * first); 'current' is the parameters being trained, which flatters online learning because
   * no user ever sees them.
   */
  scoreWith?: 'published' | 'current';
  now?: () => number;
}

export interface StepResult {
  loss: number;
  examples: number;
  /** Wall time of the training step alone (preparing inputs + forward + backward + update). */
  ms: number;
}

export interface TrainerSnapshot {
  method: string;
  version: number;
  backboneId: string;
  steps: number;
  eventsObserved: number;
  /** The gate's figures this snapshot was accepted with (null for an unvalidated snapshot). */
  validation: GateDecision['figures'] | null;
  /** The shadow trial it passed; null when it was published on the holdout gate alone. */
  shadow: ShadowVerdict | null;
  adaptation: SerializedAdaptation;
}

/**
 * `staged`: during this call the current parameters passed the holdout gate and went on trial;
 * the snapshot they become (if they pass) is what was trained at this moment, so a caller that
 * stamps snapshots with log positions notes its position now (see VariantTrainer).
 */
export type PublishOutcome =
  | { published: true; snapshot: TrainerSnapshot; decision: GateDecision; staged?: true }
  | { published: false; reason: string; decision?: GateDecision; staged?: true };

interface StagedCandidate {
  serialized: SerializedAdaptation;
  decision: GateDecision & { accept: true };
  steps: number;
  eventsObserved: number;
  trial: ShadowTrial;
}

const DEFAULTS = {
  batchSize: 64,
  learningRate: 5e-3,
  // `npm run ablate:online` on MovieLens latest-small (docs/online-ablation.md), 1,000 negatives:
  // Adam at 5e-2 took ladder to 0.70x frozen's prequential HR@10, 2e-2 to 0.91x, 1e-2 holds
  // (1.01x); lower than 1e-2 slows the synthetic world's new-item bursts.
  sideLearningRate: 1e-2,
  sideOptimizer: 'adam' as 'adam' | 'adagrad' | 'sgd',
  // 100 uniform negatives teach what the backbone already knows (telling a clicked item from a
  // random one: its sampled-100 HR@10 is 0.66 on MovieLens before any online training); with
  // them ladder fell to 0.78x frozen even with the side table frozen, with 1,000 it holds 1.00x
  // (docs/online-ablation.md). 6,000 are no better.
  negatives: 1000,
  replayCapacity: 4096,
  maxUsers: 100_000,
  holdoutEvery: 20,
  holdoutCapacity: 256,
  prequentialWindow: 500,
  publishPolicy: { intervalMs: 10_000, maxSteps: 200 } satisfies PublishPolicy,
  gate: { maxLossIncrease: 0.05, maxRankingDrop: 0.01 } satisfies GateConfig,
  shadowClicks: 0,
  memoryWeightBy: 'ranking' as 'ranking' | 'loss',
  anchorPull: 0,
} as const;

export class OnlineTrainer {
  readonly method: AdaptationMethod;
  readonly prequential: PrequentialTracker;
  /** Prequential figures over clicks on items the backbone never saw. */
  readonly newItemPrequential: PrequentialTracker;
  private readonly options: Required<Omit<OnlineTrainerOptions, 'method' | 'backboneId' | 'seed' | 'freshPerStep'>> & { freshPerStep: number };
  private readonly backboneId: string;
  private readonly histories: UserHistories;
  /** The click stream's co-visit counts, which every method's scores read (co-visit-memory.ts). */
  private readonly coVisits = new CoVisits();
  private readonly replay: ReplayBuffer<TrainingExample>;
  private readonly sampler: NegativeSampler;
  private readonly holdoutRng: Rng;
  private readonly optimizer: tf.Optimizer;
  private readonly sideOptimizer: tf.Optimizer;
  private readonly pending: TrainingExample[] = [];
  private readonly fresh: TrainingExample[] = [];
  private readonly holdout: TrainingExample[] = [];
  private live: AdaptationMethod | null = null;
  /** The trainable variables' values at the start, which `anchorPull` draws them back towards. */
  private anchor: Map<string, tf.Tensor> | null = null;
  /** The candidate on trial and the method copy that scores it (created once, reloaded). */
  private staged: StagedCandidate | null = null;
  private stagedMethod: AdaptationMethod | null = null;
  private scoredCount = 0;
  private observed = 0;
  private stepCount = 0;
  private stepsSincePublish = 0;
  /** Steps since the last publish *attempt*: a refused candidate waits for the policy again. */
  private stepsSinceAttempt = 0;
  private lastPublishMs: number;
  private version = 0;

  constructor(options: OnlineTrainerOptions) {
    registerGradients();
    this.method = options.method;
    this.backboneId = options.backboneId;
    const batchSize = options.batchSize ?? DEFAULTS.batchSize;
    this.options = {
      batchSize,
      freshPerStep: options.freshPerStep ?? Math.max(1, Math.floor(batchSize / 2)),
      learningRate: options.learningRate ?? DEFAULTS.learningRate,
      sideLearningRate: options.sideLearningRate ?? DEFAULTS.sideLearningRate,
      sideOptimizer: options.sideOptimizer ?? DEFAULTS.sideOptimizer,
      negatives: options.negatives ?? DEFAULTS.negatives,
      replayCapacity: options.replayCapacity ?? DEFAULTS.replayCapacity,
      maxUsers: options.maxUsers ?? DEFAULTS.maxUsers,
      holdoutEvery: options.holdoutEvery ?? DEFAULTS.holdoutEvery,
      holdoutCapacity: options.holdoutCapacity ?? DEFAULTS.holdoutCapacity,
      prequentialWindow: options.prequentialWindow ?? DEFAULTS.prequentialWindow,
      publishPolicy: options.publishPolicy ?? DEFAULTS.publishPolicy,
      gate: options.gate ?? DEFAULTS.gate,
      shadowClicks: options.shadowClicks ?? DEFAULTS.shadowClicks,
      memoryWeightBy: options.memoryWeightBy ?? DEFAULTS.memoryWeightBy,
      anchorPull: options.anchorPull ?? DEFAULTS.anchorPull,
      protocol: options.protocol ?? SERVING_PROTOCOL,
      scoreWith: options.scoreWith ?? 'published',
      now: options.now ?? Date.now,
    };
    if (!Number.isInteger(this.options.shadowClicks) || this.options.shadowClicks < 0) throw new RangeError(`shadowClicks must be a whole number >= 0, got ${this.options.shadowClicks}`);
    if (this.options.shadowClicks > 0 && this.options.scoreWith !== 'published') throw new RangeError("a shadow trial compares candidates with the published parameters: it needs scoreWith 'published'");
    if (this.options.freshPerStep > batchSize) throw new RangeError(`freshPerStep (${this.options.freshPerStep}) exceeds batchSize (${batchSize})`);
    const rng = createRng(options.seed ?? 1);
    this.histories = new UserHistories(this.method.backbone.config.maxLen, this.options.maxUsers);
    this.replay = new ReplayBuffer({ capacity: this.options.replayCapacity, rng: rng.fork() });
    this.sampler = new NegativeSampler({ rng: rng.fork(), numSlots: this.method.catalogue.numSlots, firstValidSlot: FIRST_ITEM_ID });
    this.holdoutRng = rng.fork();
    this.prequential = new PrequentialTracker({ windowSize: this.options.prequentialWindow });
    this.newItemPrequential = new PrequentialTracker({ windowSize: Math.max(1, Math.floor(this.options.prequentialWindow / 10)) });
    this.optimizer = tf.train.adam(this.options.learningRate);
    const sideKind = this.options.sideOptimizer;
    this.sideOptimizer =
      sideKind === 'adam' ? tf.train.adam(this.options.sideLearningRate) : sideKind === 'adagrad' ? tf.train.adagrad(this.options.sideLearningRate) : tf.train.sgd(this.options.sideLearningRate);
    this.lastPublishMs = this.options.now();
    if (this.options.anchorPull > 0) {
      // New items start at zero, which is no knowledge; a memory weight chosen by ranking is no trained value.
      const exempt = new Set([...this.method.newItemVariables(), ...(this.rankedMemoryWeight() === undefined ? [] : [this.method.coVisitWeight()])].map((v) => (v as tf.Variable).name));
      this.anchor = new Map(this.method.trainableVariables().filter((v) => !exempt.has(v.name)).map((v) => [v.name, tf.keep(v.clone())]));
    }
  }

  get steps(): number {
    return this.stepCount;
  }

  get eventsObserved(): number {
    return this.observed;
  }

  /** The user's recent catalogue slots, oldest first, as the trainer knows them. */
  userHistory(userId: string): number[] {
    return this.histories.get(userId);
  }

  /** Whether a candidate is on trial (see `shadowClicks`). */
  get onTrial(): boolean {
    return this.staged !== null;
  }

  /** Examples scored but not yet trained on as fresh ones. */
  get backlog(): number {
    return this.fresh.length + this.pending.length;
  }

  /**
   * Extends users' histories with past events without scoring or training on them (e.g. the log
   * the backbone was pretrained on), so the first streamed click of a known user has context.
   */
  seedHistories(events: Iterable<Interaction>): void {
    for (const event of events) {
      const slot = this.method.catalogue.ensureSlot(event.itemId);
      if (slot === undefined) continue;
      this.coVisits.learn(this.histories.get(event.userId), slot);
      this.histories.append(event.userId, slot);
    }
  }

  /** Books one event; returns false when it yields no example (first event of a user, or a refused new item). */
  observe(event: Interaction): boolean {
    this.observed++;
    const catalogue = this.method.catalogue;
    const slot = catalogue.ensureSlot(event.itemId);
    const history = this.histories.get(event.userId);
    const seenCount = this.histories.seenCount(event.userId);
    const memory = memoryOf(this.coVisits, history);
    if (slot === undefined) {
      // Still a click to answer: ranked as a miss, so a full side table cannot flatter the figures.
      if (history.length > 0) this.pending.push({ userId: event.userId, history, target: -1, ts: event.ts, newItem: true, seenCount, memory });
      return false;
    }
    this.coVisits.learn(history, slot);
    this.histories.append(event.userId, slot);
    if (history.length === 0) return false;
    this.pending.push({ userId: event.userId, history, target: slot, ts: event.ts, newItem: catalogue.isSideSlot(slot), seenCount, memory });
    return true;
  }

  /** The protocol's exclusion for an example: what its user had when they clicked. */
  private excludedFor(e: TrainingExample) {
    return exclusionFor(this.options.protocol, this.histories.seenBefore(e.userId, e.seenCount));
  }

  /** The parameters that rank clicks: the published copy (created at the current ones on first use) or the trained ones. */
  private async scorer(): Promise<AdaptationMethod> {
    if (this.options.scoreWith === 'current') return this.method;
    if (this.live === null) this.setLive(await this.method.serialize());
    return this.live as AdaptationMethod;
  }

  private setLive(serialized: SerializedAdaptation): void {
    if (this.live === null) {
      this.live = createAdaptation(this.method.name, this.method.backbone, this.method.catalogue, snapshotConfig(serialized, runnerOf(this.method)));
    }
    this.live.load(serialized);
  }

  /** Scores every booked example with the current parameters (the "test" of test-then-train). */
  async evaluatePending(): Promise<number> {
    const batch = this.pending.splice(0, this.pending.length);
    const ranks = await this.rank(await this.scorer(), batch);
    const staged = this.staged;
    if (staged !== null && this.stagedMethod !== null && !staged.trial.ready) {
      const candidateRanks = await this.rank(this.stagedMethod, batch);
      ranks.forEach((rank, i) => staged.trial.record(rank, candidateRanks[i] as number));
    }
    batch.forEach((e, i) => {
      const rank = ranks[i] as number;
      this.prequential.record(rank, e.ts);
      if (e.newItem) this.newItemPrequential.record(rank, e.ts);
      if (e.target < 0) return;
      this.scoredCount++;
      if (this.scoredCount % this.options.holdoutEvery === 0) {
        this.holdout.push(e);
        if (this.holdout.length > this.options.holdoutCapacity) this.holdout.shift();
      } else {
        this.fresh.push(e);
      }
    });
    return batch.length;
  }

  /** Each example's full-ranking rank under the protocol, scored by `method` in chunks of 128. */
  private async rank(method: AdaptationMethod, examples: readonly TrainingExample[]): Promise<number[]> {
    const ranks: number[] = [];
    for (let start = 0; start < examples.length; start += 128) {
      const chunk = examples.slice(start, start + 128);
      const h = await this.userStates(method, chunk);
      try {
        ranks.push(...(await this.rankAt(method, chunk, h)));
      } finally {
        h.dispose();
      }
    }
    return ranks;
  }

  /** `method`'s user states [examples, d]: one forward, which the loss and the ranking can share. */
  private async userStates(method: AdaptationMethod, examples: readonly TrainingExample[]): Promise<tf.Tensor2D> {
    const input = await prepareExamples(method, examples, true);
    try {
      return tf.tidy(() => method.userState(input));
    } finally {
      input.dispose();
    }
  }

  /** The ranks of examples whose user states `h` are already computed. */
  private async rankAt(method: AdaptationMethod, examples: readonly TrainingExample[], h: tf.Tensor2D): Promise<number[]> {
    const ranks: number[] = [];
    const weight = await memoryWeight(method);
    await scoreRows(method, examples, h, (own, e) => {
      addMemory(own, e.memory, weight);
      ranks.push(rankTarget(own, e.target, this.excludedFor(e)));
    });
    return ranks;
  }

  /**
   * One optimiser step on up to `freshPerStep` fresh examples plus replayed ones. Scores any
   * booked examples first. Returns null when there is nothing fresh to learn from (or the
   * method has nothing to train, like `frozen`; its fresh examples are then just dropped).
   */
  async trainStep(): Promise<StepResult | null> {
    await this.evaluatePending();
    if (this.fresh.length === 0) return null;
    const fresh = this.fresh.splice(0, this.options.freshPerStep);
    if (this.method.trainableVariables().length === 0) return null;
    return this.trainOn(this.replay.drawBatch(this.options.batchSize, fresh));
  }

  /**
   * One optimiser step on exactly these examples (no replay mixing, no scoring): the core of
   * `trainStep`, public so a benchmark can time identical batches across methods.
   */
  async trainOn(examples: readonly TrainingExample[]): Promise<StepResult> {
    const variables = this.method.trainableVariables();
    if (variables.length === 0) throw new Error(`${this.method.name} has no trainable variables`);
    const started = performance.now();
    this.sampler.grow(this.method.catalogue.numSlots);
    const targets = examples.map((e) => e.target);
    const candidates = candidateSet(targets, this.sampler.sample(this.options.negatives, new Set(targets)));
    const input = await prepareExamples(this.method, examples, false);
    let lossValue: number;
    try {
      // One forward/backward over exactly the trainable variables, then each group's own Adam.
      const extras = this.lossExtras(examples, candidates);
      const { value, grads } = tf.variableGrads(() => sampledSoftmaxLoss(this.method, input, candidates, extras), variables);
      const sideIds = new Set(this.method.sideVariables().map((v) => v.name));
      // Adam keeps its moments by position in the map, so every step must hand it the same
      // variables in the same order: a variable the loss did not reach this step (the side
      // table before any new item exists) gets an explicit zero gradient instead of a gap.
      const own: tf.NamedTensorMap = {};
      const side: tf.NamedTensorMap = {};
      const chosen = this.rankedMemoryWeight();
      for (const v of variables) {
        if (v === chosen) {
          grads[v.name]?.dispose();
          grads[v.name] = tf.zerosLike(v);
        }
        const g = grads[v.name] ?? (grads[v.name] = tf.zerosLike(v));
        (sideIds.has(v.name) ? side : own)[v.name] = g;
      }
      if (Object.keys(own).length > 0) this.optimizer.applyGradients(own);
      if (Object.keys(side).length > 0) this.sideOptimizer.applyGradients(side);
      lossValue = (await value.data())[0] ?? Number.NaN;
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
    } finally {
      input.dispose();
    }
    if (this.options.anchorPull > 0) this.pullToAnchor(variables);
    this.stepCount++;
    this.stepsSincePublish++;
    this.stepsSinceAttempt++;
    return { loss: lossValue, examples: examples.length, ms: performance.now() - started };
  }

  /** The batch's co-visit memory at its candidates, and the candidates that are no negative for an example (negativeMask). */
  private lossExtras(examples: readonly TrainingExample[], candidates: CandidateSet): LossExtras {
    return {
      memory: candidateMemory(
        examples.map((e) => e.memory),
        candidates,
      ),
      mask: negativeMask(examples, candidates, (row) => this.excludedFor(examples[row] as TrainingExample)),
    };
  }

  /** The memory weight variable when it is chosen by ranking rather than trained (undefined for `frozen`, which has none to set). */
  private rankedMemoryWeight(): tf.Variable | undefined {
    if (this.options.memoryWeightBy !== 'ranking') return undefined;
    const w = this.method.coVisitWeight();
    return this.method.sideVariables().find((v) => v === w);
  }

  /** Sets the memory weight that ranks the holdout best (see memoryWeightBy); one forward's states `h`. */
  private async chooseMemoryWeightOn(h: tf.Tensor2D): Promise<void> {
    const variable = this.rankedMemoryWeight();
    if (variable === undefined || this.holdout.length === 0) return;
    const cases: MemoryRankingCase[] = [];
    await scoreRows(this.method, this.holdout, h, (scores, e) => cases.push({ scores, memory: e.memory, target: e.target, excluded: this.excludedFor(e) }));
    const choice = chooseMemoryWeight(cases, await memoryWeight(this.method));
    tf.tidy(() => variable.assign(tf.fill(variable.shape, choice.weight)));
  }

  private pullToAnchor(variables: readonly tf.Variable[]): void {
    const pull = this.options.anchorPull;
    tf.tidy(() => {
      for (const v of variables) {
        const start = this.anchor?.get(v.name);
        if (start !== undefined) v.assign(tf.sub(v, tf.mul(tf.sub(v, start), pull)));
      }
    });
  }

  /**
   * What the gate reads of `method` on the rolling holdout, from one forward: the mean
   * sampled-softmax loss (negatives fixed by `negativesSeed`, the same for candidate and live;
   * the memory at `lossMemoryWeight` when given, else at the method's own w), the memory weight
   * it ranks with (for the candidate, chosen here first), and HR@10/NDCG@10 under the protocol
   * (full ranking) with each example's rank.
   */
  private async holdoutFigures(method: AdaptationMethod, negativesSeed: number, lossMemoryWeight?: number): Promise<{ loss: number; memoryWeight: number; ranking: { hr10: number; ndcg10: number; ranks: number[] } }> {
    const sampler = new NegativeSampler({ rng: createRng(negativesSeed), numSlots: this.method.catalogue.numSlots, firstValidSlot: FIRST_ITEM_ID });
    const targets = this.holdout.map((e) => e.target);
    const candidates = candidateSet(targets, sampler.sample(this.options.negatives, new Set(targets)));
    const h = await this.userStates(method, this.holdout);
    try {
      // The candidate's memory weight is chosen on these clicks before it is judged on them (the live one keeps its own).
      if (method === this.method) await this.chooseMemoryWeightOn(h);
      const extras = { ...this.lossExtras(this.holdout, candidates), ...(lossMemoryWeight === undefined ? {} : { memoryWeight: lossMemoryWeight }) };
      const lossTensor = tf.tidy(() => sampledSoftmaxLossAt(method, h, candidates, extras));
      const loss = (await lossTensor.data())[0] ?? Number.NaN;
      lossTensor.dispose();
      const ranks = await this.rankAt(method, this.holdout, h);
      const accumulator = new RankingAccumulator('full');
      for (const rank of ranks) accumulator.add(rank);
      const { hr10, ndcg10 } = accumulator.summary();
      return { loss, memoryWeight: await memoryWeight(method), ranking: { hr10, ndcg10, ranks } };
    } finally {
      h.dispose();
    }
  }

  /** The current parameters as a snapshot (not validated, not counted as published). */
  async snapshot(): Promise<TrainerSnapshot> {
    return {
      method: this.method.name,
      version: this.version,
      backboneId: this.backboneId,
      steps: this.stepCount,
      eventsObserved: this.observed,
      validation: null,
      shadow: null,
      adaptation: await this.method.serialize(),
    };
  }

  /**
   * Whether the publish policy would try now (no side effects). Callers drain the backlog before
   * publishing, so examples still waiting count as the step they are about to become. With a
   * candidate on trial, it is due once the trial has its clicks.
   */
  publishDue(): boolean {
    if (this.staged !== null) return this.staged.trial.ready;
    const steps = this.stepsSinceAttempt + (this.backlog > 0 ? 1 : 0);
    return publishDecision({ nowMs: this.options.now(), lastPublishMs: this.lastPublishMs, stepsSincePublish: steps }, this.options.publishPolicy).publish;
  }

  /**
   * Publishes when the policy says so and the gates accept: returns the snapshot to send. First
   * the holdout gate judges the current parameters; with `shadowClicks` they are then staged and
   * tried on the next clicks (ShadowTrial), and a later call publishes or refuses them and stages
   * the parameters trained meanwhile. A refused candidate keeps training (the next attempt may
   * pass) and the live copy is unchanged.
   * `force` skips the timing policy and the trial (not the holdout gate): a graceful shutdown
   * publishes whatever new steps it has, so the restarted process resumes from them instead of
   * retraining.
   */
  async maybePublish(options: { force?: boolean } = {}): Promise<PublishOutcome> {
    const forced = options.force === true && this.stepsSincePublish > 0;
    // The interval runs from when an attempt starts, not from when its gate is done: otherwise
    // every publish would come the gate's own time later than the one before, and the clicks
    // waiting for it with them (bench:fresh: 27 snapshots in 34 s at a 1 s interval).
    const startedAt = this.options.now();
    if (this.staged !== null && !forced) {
      if (!this.staged.trial.ready) return { published: false, reason: `candidate on trial: ${this.staged.trial.recorded} of ${this.staged.trial.clicks} clicks` };
      const outcome = this.judgeTrial(this.staged);
      this.staged = null;
      // The parameters trained during the trial are the next candidate, without waiting for the policy.
      if (this.stepsSinceAttempt > 0) {
        const next = await this.holdoutGate(startedAt);
        if (next.decision.accept) {
          this.stage(next.serialized, next.decision);
          return { ...outcome, staged: true };
        }
      }
      return outcome;
    }
    this.staged = null;
    const due = publishDecision({ nowMs: startedAt, lastPublishMs: this.lastPublishMs, stepsSincePublish: this.stepsSinceAttempt }, this.options.publishPolicy);
    if (!due.publish && !forced) return { published: false, reason: due.reason };
    const { serialized, decision } = await this.holdoutGate(startedAt);
    if (!decision.accept) return { published: false, reason: decision.reason, decision };
    if (this.options.shadowClicks > 0 && !forced) {
      this.stage(serialized, decision);
      return { published: false, reason: `candidate staged for a trial on the next ${this.options.shadowClicks} clicks`, staged: true };
    }
    return { published: true, snapshot: this.publish(serialized, decision, this.stepCount, this.observed, null), decision };
  }

  /** The holdout gate on the current parameters (loss, ranking and finite weights against live). */
  private async holdoutGate(attemptAt: number): Promise<{ serialized: SerializedAdaptation; decision: GateDecision }> {
    const seed = this.holdoutRng.int(2 ** 31);
    // An empty holdout (right after a start) has no loss to judge: the gate then checks weights only.
    const judged = this.holdout.length > 0;
    const candidate = judged ? await this.holdoutFigures(this.method, seed) : null;
    // A memory weight chosen by ranking (memoryWeightBy) moves the loss by itself, and the loss is
    // there to judge the trained parameters: the live loss is then taken at the candidate's weight.
    // The ranking figures compare what users get from each, at its own weight.
    const lossWeight = candidate !== null && this.rankedMemoryWeight() !== undefined ? candidate.memoryWeight : undefined;
    const live = this.live === null || candidate === null ? null : await this.holdoutFigures(this.live, seed, lossWeight);
    const candidateLoss = candidate?.loss ?? null;
    const liveLoss = live?.loss ?? null;
    const candidateRanking = candidate?.ranking ?? null;
    const liveRanking = live?.ranking ?? null;
    const serialized = await this.method.serialize();
    const noise = candidateRanking !== null && liveRanking !== null ? pairedRankingNoise(candidateRanking.ranks, liveRanking.ranks) : null;
    const decision = validateCandidate(
      {
        candidate: { holdoutLoss: candidateLoss, tensors: serialized.tensors, ...(candidateRanking === null ? {} : { holdoutRanking: candidateRanking }) },
        live: liveLoss === null ? null : { holdoutLoss: liveLoss, ...(liveRanking === null ? {} : { holdoutRanking: liveRanking }) },
        ...(noise === null ? {} : { rankingNoise: noise }),
      },
      this.options.gate,
    );
    this.lastPublishMs = attemptAt;
    this.stepsSinceAttempt = 0;
    return { serialized, decision };
  }

  private stage(serialized: SerializedAdaptation, decision: GateDecision & { accept: true }): void {
    if (this.stagedMethod === null) {
      this.stagedMethod = createAdaptation(this.method.name, this.method.backbone, this.method.catalogue, snapshotConfig(serialized, runnerOf(this.method)));
    }
    this.stagedMethod.load(serialized);
    this.staged = { serialized, decision, steps: this.stepCount, eventsObserved: this.observed, trial: new ShadowTrial(this.options.shadowClicks) };
  }

  private judgeTrial(staged: StagedCandidate): PublishOutcome {
    const verdict = staged.trial.verdict();
    const figures = staged.decision.figures;
    if (!verdict.accept) {
      const reason =
        `candidate ranked the ${verdict.clicks} clicks of its trial worse than live: HR@10 ${verdict.candidateHr10.toFixed(4)} vs ${verdict.liveHr10.toFixed(4)}, ` +
        `NDCG@10 ${verdict.candidateNdcg10.toFixed(4)} vs ${verdict.liveNdcg10.toFixed(4)}`;
      return { published: false, reason, decision: { accept: false, code: 'shadow-regressed', reason, figures } };
    }
    return { published: true, snapshot: this.publish(staged.serialized, staged.decision, staged.steps, staged.eventsObserved, verdict), decision: staged.decision };
  }

  /** Makes `serialized` the live parameters and the next version. */
  private publish(serialized: SerializedAdaptation, decision: GateDecision, steps: number, eventsObserved: number, shadow: ShadowVerdict | null): TrainerSnapshot {
    this.stepsSincePublish = Math.max(0, this.stepCount - steps);
    this.version++;
    this.setLive(serialized);
    return { method: this.method.name, version: this.version, backboneId: this.backboneId, steps, eventsObserved, validation: decision.figures, shadow, adaptation: serialized };
  }

  /** Frees the optimiser state and the live copy; the method belongs to the caller. */
  dispose(): void {
    this.optimizer.dispose();
    this.sideOptimizer.dispose();
    this.live?.dispose();
    this.live = null;
    for (const t of this.anchor?.values() ?? []) t.dispose();
    this.anchor = null;
    this.stagedMethod?.dispose();
    this.stagedMethod = null;
    this.staged = null;
  }
}

/**
 * `method`'s scores (memory left out) of each example whose user state is in `h`, 128 rows at a
 * time: `visit` gets the example's row over every slot, its own to change or keep.
 */
async function scoreRows(method: AdaptationMethod, examples: readonly TrainingExample[], h: tf.Tensor2D, visit: (scores: Float32Array, e: TrainingExample) => void): Promise<void> {
  const slots = method.catalogue.numSlots;
  for (let start = 0; start < examples.length; start += 128) {
    const rows = Math.min(128, examples.length - start);
    const scores = tf.tidy(() => method.scoresAt(rows === examples.length ? h : tf.slice(h, [start, 0], [rows, -1])));
    const data = (await scores.data()) as Float32Array;
    scores.dispose();
    for (let row = 0; row < rows; row++) visit(data.subarray(row * slots, (row + 1) * slots), examples[start + row] as TrainingExample);
  }
}

/** The weight a method gives the co-visit memory, read once per ranking pass. */
async function memoryWeight(method: AdaptationMethod): Promise<number> {
  const w = tf.tidy(() => tf.clone(method.coVisitWeight()));
  const value = (await w.data())[0] ?? 0;
  w.dispose();
  return value;
}

function runnerOf(method: AdaptationMethod) {
  return method instanceof LadderMethod ? method.runner : undefined;
}
