import { sealSnapshot, type AdapterSnapshot, type SnapshotTrust } from '@reco/model';
import {
  metricsObserver,
  sendWithinLimit,
  startEventConsumer,
  startTopicConsumer,
  type ConsumerHealth,
  type EventBatch,
  type Kafka,
  type Logger,
  type Message,
  type Producer,
  type TopicConsumer,
  type TopicSpec,
} from '@reco/stream';
import type { VariantSpec } from './config.js';
import type { UpdaterMetrics } from './metrics.js';
import { RollbackWatch, type RollbackWatchOptions, type Watched } from './rollback-watch.js';
import type { VariantTrainer } from './variant-trainer.js';

/** Room for the largest snapshot plus batch framing: KafkaJS fetches 1 MiB per partition by default. */
const FETCH_HEADROOM_BYTES = 1024 * 1024;

/** How the updater follows rollback records on the adapters topic (docs/snapshots.md, "Rollback"). */
export interface RollbackFollowing {
  /** What a record must be to count: the updater's key, variants, methods, backbone (its resume check). */
  watch: Omit<RollbackWatchOptions, 'basis'>;
  /** A trainer for `spec` built from the record's parameters and offsets, publishing after `versionFloor`. */
  rebuild(spec: VariantSpec, from: AdapterSnapshot, versionFloor: number): VariantTrainer;
}

/** Where snapshots go when not through the plain producer: main.ts's fenced, transactional SnapshotPublisher. */
export interface SnapshotSink {
  publish(variant: string, message: Message): Promise<void>;
}

export interface UpdaterDeps {
  kafka: Kafka;
  /** A plain (non-transactional) producer for dead letters, and for snapshots unless `snapshots` is given; owned by the caller. */
  producer: Producer;
  /** Publishes each snapshot (main.ts: one transaction per snapshot, fenced per variant). */
  snapshots?: SnapshotSink;
  topics: { events: TopicSpec; deadLetter: TopicSpec; adapters: TopicSpec };
  groupId: string;
  sessionTimeoutMs?: number;
  /** The trainers; the updater owns them from here on (`variants` lists the current ones, rebuilt ones included). */
  variants: readonly VariantTrainer[];
  /** Follow reco.adapters and adopt rollback records (main.ts always does; tests of other things may not). */
  rollbacks?: RollbackFollowing;
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
 *
 * It also follows the adapters topic from its start: a rollback record the replicas apply (see
 * RollbackWatch) replaces that variant's trainer with one built from the record, and the events
 * after the record's offsets are read again (every partition sought back to where the variants
 * now need it; the others skip what they were already fed).
 */
export class Updater {
  readonly #deps: UpdaterDeps;
  readonly #now: () => number;
  readonly #variants: VariantTrainer[];
  #consumer: TopicConsumer | undefined;
  #adapters: TopicConsumer | undefined;
  #stopping: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Batches and idle publish checks take turns: trainers are not safe to use concurrently. */
  #turn: Promise<void> = Promise.resolve();

  constructor(deps: UpdaterDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#variants = [...deps.variants];
  }

  /** The trainers now: the ones given, with any replaced by an adopted rollback. The caller disposes them after stop(). */
  get variants(): readonly VariantTrainer[] {
    return this.#variants;
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
    if (this.#deps.rollbacks !== undefined) this.#adapters = this.#followAdapters(this.#deps.rollbacks);
    this.#timer = setInterval(() => {
      void this.#exclusive(async () => {
        for (const variant of this.#variants) await this.#publish(variant, false);
      }).catch((error: unknown) => this.#deps.logger.error({ err: String(error) }, 'idle publish check failed'));
    }, this.#deps.publishCheckMs ?? 250);
    logger.info({ variants: this.#variants.map((v) => ({ variant: v.spec.name, version: v.version, examples: v.examplesTrained })) }, 'updater started');
  }

  /** The events consumer's state: `/readyz` is ready only while it is running. */
  health(): ConsumerHealth | undefined {
    return this.#consumer?.health();
  }

  /** Finishes the current batch, leaves the group, then trains what was fed and publishes every variant. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#timer);
      await Promise.all([this.#adapters?.stop(), this.#consumer?.stop()]);
      await this.#exclusive(async () => {
        for (const variant of this.#variants) await this.#publish(variant, true);
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
   * (clamped to the log start): looked up before the consumer first joins, and after a rollback.
   */
  async #snapshotPositions(): Promise<Map<number, string>> {
    const { kafka, topics } = this.#deps;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const positions = new Map<number, string>();
      for (const { partition, low } of await admin.fetchTopicOffsets(topics.events.name)) {
        let start: bigint | undefined;
        for (const variant of this.#variants) {
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

  /** The adapters topic from its start, through the consumer seam: every record to the watch, in log order. */
  #followAdapters(following: RollbackFollowing): TopicConsumer {
    const { kafka, topics, groupId, logger, metrics } = this.#deps;
    const watch = new RollbackWatch({ ...following.watch, basis: (name) => this.#variants.find((v) => v.spec.name === name)?.baseVersion ?? Number.POSITIVE_INFINITY });
    return startTopicConsumer({
      kafka,
      name: 'adapters',
      topic: topics.adapters.name,
      // Offsets are never committed and the log is read from its start on every start: the group is this process's alone.
      groupId: `${groupId}-adapters`,
      groupPerStart: true,
      fromBeginning: true,
      maxBytesPerPartition: topics.adapters.maxMessageBytes + FETCH_HEADROOM_BYTES,
      maxBytes: 2 * (topics.adapters.maxMessageBytes + FETCH_HEADROOM_BYTES),
      lagRefreshMs: this.#deps.lagRefreshMs,
      logger,
      observer: metricsObserver(metrics.consumers, 'updater', topics.adapters.name),
      eachBatch: async (batch) => {
        for (const message of batch.messages) {
          const watched = watch.offer(message.value, message.key);
          if (watched?.kind === 'refused') logger.debug({ partition: batch.partition, offset: message.offset, variant: watched.variant, version: watched.version, reason: watched.reason }, 'adapters record not followed');
          if (watched?.kind !== 'adopt') continue;
          // Decided in log order, rebuilt in the trainers' turn: never in the middle of a batch of events.
          await this.#exclusive(() => this.#adopt(watched, following, batch.partition, message.offset));
        }
      },
    });
  }

  /**
   * Replaces the variant's trainer with one built from the rollback record, then seeks every
   * events partition back to where the trainers now need it, so the events after the record's
   * offsets are trained again into the restored parameters. Its next snapshot is numbered after
   * both the record and whatever the replaced trainer published.
   */
  async #adopt(watched: Extract<Watched, { kind: 'adopt' }>, following: RollbackFollowing, partition: number, offset: string): Promise<void> {
    const { metrics, logger } = this.#deps;
    const index = this.#variants.findIndex((v) => v.spec.name === watched.variant);
    const replaced = this.#variants[index];
    if (replaced === undefined || watched.version <= replaced.baseVersion) return;
    let rebuilt: VariantTrainer;
    try {
      rebuilt = following.rebuild(replaced.spec, watched.snapshot, Math.max(replaced.version, watched.version));
    } catch (error) {
      // Verified but not loadable here: training goes on from the current parameters, loudly.
      metrics.snapshotsSkipped.inc({ variant: watched.variant, reason: 'shape_mismatch' });
      logger.error({ variant: watched.variant, version: watched.version, rollback: watched.note, err: String(error) }, 'rollback record does not load; not adopted');
      return;
    }
    this.#variants[index] = rebuilt;
    replaced.dispose();
    metrics.rollbacksAdopted.inc({ variant: watched.variant });
    const consumer = this.#consumer;
    const sought: Record<string, string> = {};
    if (consumer !== undefined) {
      const now = consumer.positions();
      for (const [p, position] of await this.#snapshotPositions()) {
        const target = BigInt(position);
        const at = now.get(p);
        if (at !== undefined && target >= at) continue;
        consumer.seek(p, target);
        sought[String(p)] = position;
      }
    }
    logger.warn(
      { variant: watched.variant, version: watched.version, rollback: watched.note, offsets: watched.snapshot.meta.offsets, replacedVersion: replaced.version, nextVersion: rebuilt.version + 1, sought, record: { partition, offset } },
      'rollback adopted: training on from the restored parameters and offsets',
    );
  }

  /**
   * Feeds a fetched batch slice by slice, training and checking the publish policy after each
   * slice: with a backlog a fetch brings thousands of events per partition, and publishing only
   * between fetches would stretch the publish interval to the time one whole fetch takes to train.
   * A snapshot taken mid-batch is exact: its offsets are those of the last event fed.
   */
  async #onBatch(batch: EventBatch): Promise<void> {
    // Fetched before an adopted rollback sought its partition back: its events come again from there.
    if (batch.isStale()) return;
    const { metrics } = this.#deps;
    const variants = this.#variants;
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
    const message = { key: meta.variant, value: sealSnapshot(outcome.snapshot, this.#deps.trust) };
    if (this.#deps.snapshots !== undefined) await this.#deps.snapshots.publish(meta.variant, message);
    else await sendWithinLimit(producer, topics.adapters, [message]);
    metrics.snapshotsPublished.inc(labels);
    metrics.liveVersion.set(labels, meta.version);
    metrics.lastPublishTime.set(labels, now / 1000);
    logger.info({ variant: meta.variant, version: meta.version, examplesTrained: meta.examplesTrained, offsets: meta.offsets }, 'snapshot published');
  }
}
