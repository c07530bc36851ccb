import { sealSnapshot, type SnapshotTrust } from '@reco/model';
import {
  metricsObserver,
  sendWithinLimit,
  startEventConsumer,
  type ConsumerHealth,
  type EventBatch,
  type Kafka,
  type Logger,
  type Producer,
  type TopicConsumer,
  type TopicSpec,
} from '@reco/stream';
import type { UpdaterMetrics } from './metrics.js';
import type { VariantTrainer } from './variant-trainer.js';

export interface UpdaterDeps {
  kafka: Kafka;
  /** Used for snapshots and dead letters; owned by the caller. */
  producer: Producer;
  topics: { events: TopicSpec; deadLetter: TopicSpec; adapters: TopicSpec };
  groupId: string;
  sessionTimeoutMs?: number;
  variants: readonly VariantTrainer[];
  metrics: UpdaterMetrics;
  logger: Logger;
  /** Every snapshot is signed with the shared key before it is published (insecure: unsigned). */
  trust: SnapshotTrust;
  now?: () => number;
  /**
   * How often an idle updater asks each variant's publish policy again. Batches ask too, but
   * when the stream goes quiet the last steps must still be published (default 250 ms).
   */
  publishCheckMs?: number;
  /** Events per partition read below the resume offsets to rebuild user histories (not trained). */
  historyLookback?: number;
  /** Events fed between training and publish checks within one fetched batch (default 512). */
  sliceEvents?: number;
  /** How often the consumer's lag is measured against the partition ends (default 5 s). */
  lagRefreshMs?: number;
}

/**
 * The updater's loop: read events in the consumer group, feed every variant's trainer
 * (test-then-train), drain the training backlog with heartbeats between steps so a long batch
 * never costs the group membership, and publish a snapshot per variant when its policy and gate
 * say so. The position of each variant lives in its snapshots, not in committed group offsets: on
 * start every partition is sought to the lowest position any variant still needs (less the history
 * look-back). Reading goes through the consumer seam of @reco/stream, which reconnects by itself
 * after a broker restart and resumes after the last batch handled; trainers skip any position
 * they were already fed, so a batch read again after a crash is never trained twice.
 */
export class Updater {
  readonly #deps: UpdaterDeps;
  readonly #now: () => number;
  #consumer: TopicConsumer | undefined;
  #stopping: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Batches and idle publish checks take turns: trainers are not safe to use concurrently. */
  #turn: Promise<void> = Promise.resolve();

  constructor(deps: UpdaterDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Resolves once the consumer has joined its group at the snapshot positions. */
  async start(): Promise<void> {
    const { kafka, topics, groupId, logger, metrics } = this.#deps;
    this.#consumer = await startEventConsumer({
      kafka,
      name: 'events',
      groupId,
      // A restart after a crash joins `<groupId>-r<n>`: the old group still lists the member the
      // crash left behind, and joining it again waits a whole session timeout (30 s by default)
      // for that member to expire. Nothing is lost by moving on: no offsets are committed (the
      // positions are in the snapshots and in this process), and one updater owns each variant.
      groupPerStart: true,
      events: topics.events,
      deadLetter: { topic: topics.deadLetter, producer: this.#deps.producer },
      onInvalid: (count) => metrics.eventsDeadLettered.inc(count),
      fromBeginning: true,
      startPositions: () => this.#snapshotPositions(),
      sessionTimeoutMs: this.#deps.sessionTimeoutMs,
      lagRefreshMs: this.#deps.lagRefreshMs,
      observer: metricsObserver(metrics.consumers, 'updater', topics.events.name),
      logger,
      onEvents: (batch) => this.#exclusive(() => this.#onBatch(batch)),
    });
    this.#timer = setInterval(() => {
      void this.#exclusive(async () => {
        for (const variant of this.#deps.variants) await this.#publish(variant, false);
      }).catch((error: unknown) => this.#deps.logger.error({ err: String(error) }, 'idle publish check failed'));
    }, this.#deps.publishCheckMs ?? 250);
    logger.info({ variants: this.#deps.variants.map((v) => ({ variant: v.spec.name, version: v.version, examples: v.examplesTrained })) }, 'updater started');
  }

  /** The events consumer's state: `/readyz` is ready only while it is running. */
  health(): ConsumerHealth | undefined {
    return this.#consumer?.health();
  }

  /** Finishes the current batch, leaves the group, then trains what was fed and publishes every variant. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#timer);
      await this.#consumer?.stop();
      await this.#exclusive(async () => {
        for (const variant of this.#deps.variants) await this.#publish(variant, true);
      });
      this.#deps.logger.info({}, 'updater stopped');
    })();
    return this.#stopping;
  }

  #exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.#turn.then(work);
    this.#turn = run.catch(() => undefined);
    return run;
  }

  /**
   * Per partition, the lowest position any variant still needs, less the history look-back
   * (clamped to the log start): looked up once, before the consumer first joins.
   */
  async #snapshotPositions(): Promise<Map<number, string>> {
    const { kafka, topics } = this.#deps;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const positions = new Map<number, string>();
      for (const { partition, low } of await admin.fetchTopicOffsets(topics.events.name)) {
        let start: bigint | undefined;
        for (const variant of this.#deps.variants) {
          const position = variant.startOffset(partition) ?? BigInt(low);
          start = start === undefined || position < start ? position : start;
        }
        const lookedBack = start === undefined ? undefined : start - BigInt(this.#deps.historyLookback ?? 0);
        positions.set(partition, lookedBack === undefined || lookedBack < BigInt(low) ? low : lookedBack.toString());
      }
      return positions;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Feeds a fetched batch slice by slice, training and checking the publish policy after each
   * slice: with a backlog a fetch brings thousands of events per partition, and publishing only
   * between fetches would stretch the publish interval to the time one whole fetch takes to train.
   * A snapshot taken mid-batch is exact: its offsets are those of the last event fed.
   */
  async #onBatch(batch: EventBatch): Promise<void> {
    const { metrics, variants } = this.#deps;
    metrics.eventsConsumed.inc(batch.events.length);
    const slice = this.#deps.sliceEvents ?? 512;
    for (let start = 0; start < batch.events.length; start += slice) {
      const events = batch.events.slice(start, start + slice);
      const last = start + slice >= batch.events.length;
      for (const variant of variants) {
        let fed = 0;
        for (const { event, partition, offset } of events) if (variant.feed(event, partition, offset)) fed += 1;
        // Positions after the last valid event (dead-lettered ones) are handled once it is fed.
        if (last) variant.skipTo(batch.partition, batch.lastOffset);
        metrics.examplesTrained.inc({ variant: variant.spec.name }, fed);
        await variant.trainFullSteps(async (step) => {
          this.#recordStep(variant, step.loss, step.ms);
          await batch.heartbeat();
        });
        await this.#publish(variant, false, () => batch.heartbeat());
      }
    }
    if (batch.events.length === 0) for (const variant of variants) variant.skipTo(batch.partition, batch.lastOffset);
  }

  #recordStep(variant: VariantTrainer, loss: number, ms: number): void {
    const { metrics } = this.#deps;
    const labels = { variant: variant.spec.name };
    metrics.trainingSteps.inc(labels);
    metrics.stepSeconds.observe(labels, ms / 1000);
    if (Number.isFinite(loss)) metrics.loss.set(labels, loss);
    const rolling = variant.trainer.prequential.rolling();
    if (rolling.count > 0) {
      metrics.prequentialHr10.set(labels, rolling.hr10);
      metrics.prequentialNdcg10.set(labels, rolling.ndcg10);
    }
  }

  /** Drains what was fed, then asks the policy and gate; the snapshot's offsets are then all trained. */
  async #publish(variant: VariantTrainer, force: boolean, heartbeat?: () => Promise<void>): Promise<void> {
    const { metrics, logger, producer, topics } = this.#deps;
    if (!force && !variant.publishDue()) return;
    await variant.trainUntilDrained(async (step) => {
      this.#recordStep(variant, step.loss, step.ms);
      await heartbeat?.();
    });
    const now = this.#now();
    const outcome = await variant.maybePublish(now, force);
    if (outcome === null) return;
    const labels = { variant: variant.spec.name };
    if ('rejected' in outcome) {
      metrics.snapshotsRejected.inc({ ...labels, reason: outcome.rejected });
      logger.warn({ variant: variant.spec.name, code: outcome.rejected, reason: outcome.reason }, 'validation gate refused the candidate snapshot');
      return;
    }
    const { meta } = outcome.snapshot;
    await sendWithinLimit(producer, topics.adapters, [{ key: meta.variant, value: sealSnapshot(outcome.snapshot, this.#deps.trust) }]);
    metrics.snapshotsPublished.inc(labels);
    metrics.liveVersion.set(labels, meta.version);
    metrics.lastPublishTime.set(labels, now / 1000);
    logger.info({ variant: meta.variant, version: meta.version, examplesTrained: meta.examplesTrained, offsets: meta.offsets }, 'snapshot published');
  }
}
