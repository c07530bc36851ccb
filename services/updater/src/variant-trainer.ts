import type { Interaction } from '@reco/data';
import {
  adaptationOf,
  buildSnapshot,
  createAdaptation,
  ItemCatalogue,
  OnlineTrainer,
  restoreAdaptation,
  type AdapterSnapshot,
  type AdaptationMethod,
  type BackboneRunner,
  type LoadedCheckpoint,
  type StepResult,
  type TrainerSnapshot,
} from '@reco/model';
import type { RecoEvent } from '@reco/stream';
import type { TrainingSettings, VariantSpec } from './config.js';

/** Events that say "the user wanted this item": the positives the trainer learns from. */
const POSITIVE_TYPES: ReadonlySet<RecoEvent['type']> = new Set(['click', 'purchase']);

export interface PublishedSnapshot {
  snapshot: AdapterSnapshot;
  trainer: TrainerSnapshot;
}

/**
 * One variant's online training and its exact position in the event log.
 *
 * `next` holds, per partition, the offset after the last event fed to this trainer. It is
 * published with every snapshot, and a restarted updater skips every event below it, so after a
 * crash each event is trained into the published parameters exactly once: events after the last
 * snapshot were trained only into parameters that died with the process, and are fed again.
 */
export class VariantTrainer {
  readonly spec: VariantSpec;
  readonly method: AdaptationMethod;
  readonly trainer: OnlineTrainer;
  readonly #backboneId: string;
  readonly #freshPerStep: number;
  readonly #next = new Map<number, bigint>();
  /** Per partition, the last position whose event is in the per-user histories (never add one twice). */
  readonly #inHistory = new Map<number, bigint>();
  #version: number;
  /** The version of the snapshot the parameters were built from (0: identity). */
  readonly #baseVersion: number;
  #examples: number;
  #newestEventTs: number | null;
  /** The log position when the candidate now on trial was staged: what its snapshot covers. */
  #staged: { next: Map<number, bigint>; examples: number; newestEventTs: number | null } | null = null;

  private constructor(spec: VariantSpec, method: AdaptationMethod, trainer: OnlineTrainer, backboneId: string, freshPerStep: number, resumed: AdapterSnapshot | undefined, versionFloor: number) {
    this.#freshPerStep = freshPerStep;
    this.spec = spec;
    this.method = method;
    this.trainer = trainer;
    this.#backboneId = backboneId;
    this.#baseVersion = resumed?.meta.version ?? 0;
    this.#version = Math.max(this.#baseVersion, versionFloor);
    this.#examples = resumed?.meta.examplesTrained ?? 0;
    this.#newestEventTs = resumed?.meta.newestEventTs ?? null;
    for (const [partition, offset] of Object.entries(resumed?.meta.offsets ?? {})) this.#next.set(Number(partition), BigInt(offset));
  }

  /**
   * Builds the trainer at identity, or resumed from the variant's latest published snapshot (or a
   * rollback record it adopts). A snapshot for another backbone is refused: its parameters mean
   * nothing on this one. `versionFloor`: the version it publishes after is at least this (an
   * adopted rollback must not reuse a version the replaced trainer already published).
   */
  static create(options: {
    spec: VariantSpec;
    checkpoint: LoadedCheckpoint;
    settings: TrainingSettings;
    runner?: BackboneRunner;
    resumeFrom?: AdapterSnapshot;
    versionFloor?: number;
    now?: () => number;
  }): VariantTrainer {
    const { spec, checkpoint, settings, resumeFrom } = options;
    if (resumeFrom && resumeFrom.meta.backboneId !== checkpoint.backboneId) {
      throw new Error(
        `latest snapshot of variant ${spec.name} was trained on backbone ${resumeFrom.meta.backboneId.slice(0, 12)}, not the loaded ${checkpoint.backboneId.slice(0, 12)}`,
      );
    }
    if (resumeFrom && resumeFrom.meta.method !== spec.method) {
      throw new Error(`latest snapshot of variant ${spec.name} is method ${resumeFrom.meta.method}, but the variant is configured as ${spec.method}`);
    }
    const runnerOption = options.runner ? { runner: options.runner } : {};
    const method = resumeFrom
      ? restoreAdaptation(adaptationOf(resumeFrom), checkpoint.backbone, checkpoint.itemIds, runnerOption)
      : createAdaptation(spec.method, checkpoint.backbone, new ItemCatalogue(checkpoint.itemIds, settings.sideCapacity), { seed: settings.seed, ladder: runnerOption });
    const freshPerStep = Math.min(settings.freshPerStep, settings.batchSize);
    const trainer = new OnlineTrainer({
      method,
      backboneId: checkpoint.backboneId,
      seed: settings.seed,
      batchSize: settings.batchSize,
      freshPerStep,
      learningRate: settings.learningRate,
      publishPolicy: { intervalMs: settings.publishIntervalMs, maxSteps: settings.publishMaxSteps },
      gate: { maxLossIncrease: settings.gateMaxLossIncrease, maxRankingDrop: settings.gateMaxRankingDrop },
      shadowClicks: settings.gateShadowClicks,
      anchorPull: settings.anchorPull,
      ...(settings.memoryWeightBy === undefined ? {} : { memoryWeightBy: settings.memoryWeightBy }),
      ...(options.now ? { now: options.now } : {}),
    });
    return new VariantTrainer(spec, method, trainer, checkpoint.backboneId, freshPerStep, resumeFrom, options.versionFloor ?? 0);
  }

  get version(): number {
    return this.#version;
  }

  /** The version of the snapshot its parameters were built from: a rollback record at or below it is already in them. */
  get baseVersion(): number {
    return this.#baseVersion;
  }

  get examplesTrained(): number {
    return this.#examples;
  }

  /** Where this variant must start reading a partition: undefined means from the beginning. */
  startOffset(partition: number): bigint | undefined {
    return this.#next.get(partition);
  }

  /**
   * Feeds one event at a log position; returns false when it was already trained (before a restart
   * or a re-fetch). Such an event still rebuilds its user's history once, so after a restart the
   * first new click of a user is learned in context (the updater reads a look-back window below
   * the resume offsets for exactly this).
   */
  feed(event: RecoEvent, partition: number, offset: string): boolean {
    const position = BigInt(offset);
    const next = this.#next.get(partition);
    const positive = POSITIVE_TYPES.has(event.type);
    const interaction: Interaction = { userId: event.userId, itemId: event.itemId, type: event.type, ts: event.ts };
    const firstTimeHere = position > (this.#inHistory.get(partition) ?? -1n);
    if (firstTimeHere) this.#inHistory.set(partition, position);
    if (next !== undefined && position < next) {
      if (firstTimeHere && positive) this.trainer.seedHistories([interaction]);
      return false;
    }
    this.#next.set(partition, position + 1n);
    if (!positive) return true;
    this.trainer.observe(interaction);
    this.#examples += 1;
    this.#newestEventTs = Math.max(this.#newestEventTs ?? event.ts, event.ts);
    return true;
  }

  /** Marks a position as handled without an event (an invalid message that went to the DLQ). */
  skipTo(partition: number, lastOffset: string): void {
    const after = BigInt(lastOffset) + 1n;
    if ((this.#next.get(partition) ?? 0n) < after) this.#next.set(partition, after);
  }

  /**
   * Trains while a full share of fresh examples is waiting. Slow traffic must not mean a step per
   * trickle of clicks: each step replays the rest of its batch, so many small steps would train on
   * the replay buffer over and over (measured: the holdout loss then climbs and the gate refuses
   * every candidate). The remainder is trained on when a publish is due (`trainUntilDrained`).
   */
  async trainFullSteps(afterStep: (result: StepResult) => Promise<void>): Promise<void> {
    while (this.trainer.backlog >= this.#freshPerStep) {
      const result = await this.trainer.trainStep();
      if (result === null) break;
      await afterStep(result);
    }
  }

  /** Trains until every fed example has been scored and trained on as a fresh example. */
  async trainUntilDrained(afterStep: (result: StepResult) => Promise<void>): Promise<void> {
    while (this.trainer.backlog > 0) {
      const result = await this.trainer.trainStep();
      if (result === null) break;
      await afterStep(result);
    }
  }

  /** Whether the publish policy would try now; drain first so the published offsets are all trained. */
  publishDue(): boolean {
    return this.trainer.publishDue();
  }

  /**
   * Asks the trainer's publish policy and validation gate for a snapshot and, when it passes,
   * stamps it with this variant's name, next version and log position. Call after draining, so the
   * published offsets never cover an event that is not trained into the parameters.
   */
  async maybePublish(now: number, force = false): Promise<PublishedSnapshot | { rejected: string; reason: string } | null> {
    const staged = this.#staged;
    const outcome = await this.trainer.maybePublish({ force });
    // A candidate on trial is published later with the position it was trained to, not the one
    // reached meanwhile: a restart resumes from its offsets and trains the trial's clicks again.
    const position = outcome.published && outcome.snapshot.shadow !== null && staged !== null ? staged : { next: this.#next, examples: this.#examples, newestEventTs: this.#newestEventTs };
    if (outcome.staged === true) this.#staged = this.position();
    else if (!this.trainer.onTrial) this.#staged = null;
    if (!outcome.published) {
      return outcome.decision && !outcome.decision.accept ? { rejected: outcome.decision.code, reason: outcome.decision.reason } : null;
    }
    this.#version += 1;
    const preq = this.trainer.prequential.rolling();
    const snapshot: AdapterSnapshot = buildSnapshot(
      {
        variant: this.spec.name,
        version: this.#version,
        backboneId: this.#backboneId,
        offsets: Object.fromEntries([...position.next].map(([p, o]) => [String(p), o.toString()])),
        examplesTrained: position.examples,
        figures: {
          ...(outcome.snapshot.validation ?? {}),
          prequentialHr10: preq.count > 0 ? preq.hr10 : null,
          prequentialNdcg10: preq.count > 0 ? preq.ndcg10 : null,
          steps: this.trainer.steps,
        },
        newestEventTs: position.newestEventTs,
        publishedAt: now,
      },
      outcome.snapshot.adaptation,
    );
    return { snapshot, trainer: outcome.snapshot };
  }

  private position(): { next: Map<number, bigint>; examples: number; newestEventTs: number | null } {
    return { next: new Map(this.#next), examples: this.#examples, newestEventTs: this.#newestEventTs };
  }

  dispose(): void {
    this.trainer.dispose();
    this.method.dispose();
  }
}
