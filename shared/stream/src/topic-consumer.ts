import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { ConsumerHealth, ConsumerState } from './consumer-health.js';
import { isRetriable } from './errors.js';
import { fastFailingClientFor } from './kafka-client.js';
import type { Logger } from './logger.js';
import { backoffDelay, errorSummary, type Backoff } from './with-retries.js';

export interface TopicBatch {
  topic: string;
  partition: number;
  /** At least one message, in offset order. */
  messages: KafkaMessage[];
  /** The partition's end offset when the batch was fetched. */
  highWatermark: string;
  /** Call during long work so the group coordinator does not evict this member. */
  heartbeat(): Promise<void>;
  /**
   * True once the partition was sought (`TopicConsumer.seek`) after this batch was fetched: its
   * messages are no longer where the partition goes on from, so a handler that queued work for it
   * checks this before using them.
   */
  isStale(): boolean;
}

/** Where a consumer reports to (the services turn these into Prometheus series). */
export interface ConsumerObserver {
  /** Every state change, the first `starting` included. */
  state?(health: ConsumerHealth): void;
  /** Messages behind the end of one partition, after each batch and each lag refresh. */
  lag?(partition: number, lag: number): void;
  /** Messages handled (a handler that resolved). */
  consumed?(messages: number): void;
}

/**
 * Reconnect backoff: 500 ms doubling to 5 s. The cap bounds how long a consumer stays down after
 * the broker is back: a restarted single-node broker is usually answering within 20 s, and the
 * services must follow it within seconds, not minutes.
 */
export const CONSUMER_BACKOFF: Backoff = Object.freeze({ initialMs: 500, maxMs: 5000 });

export interface TopicConsumerOptions {
  kafka: Kafka;
  /** This reader's name in logs, health and metrics (`history`, `snapshots`, `events`). */
  name: string;
  topic: string;
  groupId: string;
  /**
   * Join a fresh group (`<groupId>-r<n>`) on every restart. For readers whose group is theirs
   * alone and commits nothing (serving's replicas): rejoining the old group after a broker crash
   * waits a whole session timeout for the dead member the crash left behind.
   */
  groupPerStart?: boolean;
  /** Where partitions without a position start: the beginning, or the end (default). */
  fromBeginning?: boolean;
  /**
   * Start offsets per partition, looked up once before the first join (retried like the join).
   * Partitions it leaves out start per `fromBeginning`. After a restart or a rebalance every
   * partition this consumer has handled resumes right after the last batch it handled, so nothing
   * is skipped or read twice across reconnects, whatever the group has committed.
   */
  startPositions?: () => Promise<ReadonlyMap<number, string>>;
  /** Commit offsets after each batch (default false: every reader here keeps its position elsewhere). */
  commitOffsets?: boolean;
  sessionTimeoutMs?: number;
  /**
   * How long the broker may hold a fetch open when there is nothing new. KafkaJS's 5 s default
   * would delay the first records after a quiet spell; a click must reach history within a second.
   */
  maxWaitTimeMs?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  backoff?: Backoff;
  /**
   * How often lag is measured against the partition ends (default 5 s; 0: only after batches).
   * Measured apart from batches so that a consumer that is stuck or down shows lag growing.
   */
  lagRefreshMs?: number;
  logger: Logger;
  observer?: ConsumerObserver;
  /** Handles one batch; the batch counts as handled only when this resolves. A throw is a crash. */
  eachBatch(batch: TopicBatch): Promise<void>;
  /**
   * Told the partition's next offset each time the position moves forward: after a handled batch,
   * and after a fetch that held only transaction markers (or aborted records). Those never reach
   * `eachBatch`, yet they occupy offsets: on a topic written in transactions the last offset is a
   * commit marker, so "read up to the end" must be judged on positions, not on messages seen.
   */
  onPosition?(partition: number, next: bigint): void;
}

export interface TopicConsumer {
  health(): ConsumerHealth;
  /** Resolves on the first join; rejects if the consumer failed (or was stopped) before it. */
  readonly ready: Promise<void>;
  /** Per partition, the offset after the last batch handled. */
  positions(): ReadonlyMap<number, bigint>;
  /**
   * Moves a partition's position: its next batch starts at `offset` (the updater reads events
   * again after adopting a rollback). A batch of the partition fetched before is stale: it is not
   * handed over if it has not started, and one in hand does not move the position when it ends.
   * Applied at once to a running consumer, else on its next join; kept across reconnects.
   */
  seek(partition: number, offset: bigint): void;
  /** Waits for the batch in hand, leaves the group, disconnects. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The one consumer seam: every long-running reader in the product goes through it (the updater's
 * events consumer, serving's history and snapshot consumers). It owns:
 *   - start positions, applied on every join (KafkaJS would otherwise fall back to the committed
 *     offset or `fromBeginning` after each restart and rebalance);
 *   - lag, per partition, from batches and from a periodic look at the partition ends;
 *   - the crash policy: KafkaJS never restarts a consumer itself here (`restartOnFailure` says no);
 *     every crash comes to this seam, which asks `isRetriable` once. Retriable (a lost connection,
 *     a coordinator that moved, a retry budget that ran out during a broker restart): a brand-new
 *     KafkaJS consumer after capped exponential backoff, forever. Anything else: `failed`;
 *   - health (`starting`, `running`, `reconnecting`, `failed`, `stopped`) for readiness and metrics.
 *
 * Consumers are built from the client's consumer sibling (`fastFailingClientFor`), which gives up on a
 * lost connection within about a second: so `/readyz` turns false at once when the broker dies,
 * instead of after KafkaJS's ~20 s of silent internal retries, and reconnecting is this seam's job.
 */
export function startTopicConsumer(options: TopicConsumerOptions): TopicConsumer {
  return new TopicConsumerRunner(options);
}

class TopicConsumerRunner implements TopicConsumer {
  readonly #options: TopicConsumerOptions;
  readonly #backoff: Backoff;
  readonly #client: Kafka;
  readonly #positions = new Map<number, bigint>();
  readonly #partitionLag = new Map<number, number>();
  readonly ready: Promise<void>;
  #resolveReady: () => void = () => undefined;
  #rejectReady: (error: unknown) => void = () => undefined;
  #initial: ReadonlyMap<number, string> | undefined;
  #consumer: Consumer | undefined;
  #state: ConsumerState = 'starting';
  #sinceMs = Date.now();
  #restarts = 0;
  /** Crashes since the last successful join: the backoff exponent. */
  #failures = 0;
  #lastError: string | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  #lagAdmin: Admin | undefined;
  #lagInFlight = false;

  constructor(options: TopicConsumerOptions) {
    this.#options = options;
    this.#backoff = options.backoff ?? CONSUMER_BACKOFF;
    this.#client = fastFailingClientFor(options.kafka);
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Callers that never await `ready` must not see an unhandled rejection for a failed start.
    this.ready.catch(() => undefined);
    options.observer?.state?.(this.health());
    const refresh = options.lagRefreshMs ?? 5000;
    if (refresh > 0) {
      this.#lagTimer = setInterval(() => void this.#refreshLag(), refresh);
      this.#lagTimer.unref();
    }
    void this.#attempt();
  }

  health(): ConsumerHealth {
    let lag: number | undefined;
    for (const value of this.#partitionLag.values()) lag = (lag ?? 0) + value;
    return {
      name: this.#options.name,
      topic: this.#options.topic,
      state: this.#state,
      sinceMs: this.#sinceMs,
      restarts: this.#restarts,
      lag,
      lastError: this.#lastError,
    };
  }

  positions(): ReadonlyMap<number, bigint> {
    return new Map(this.#positions);
  }

  seek(partition: number, offset: bigint): void {
    if (this.#stopped) return;
    if (offset < 0n) throw new RangeError(`cannot seek partition ${partition} to ${offset}`);
    this.#positions.set(partition, offset);
    const consumer = this.#consumer;
    try {
      consumer?.seek({ topic: this.#options.topic, partition, offset: offset.toString() });
    } catch (error) {
      // Not running yet (KafkaJS seeks only after run()): the join seeks every partition to its
      // position, this one included.
      this.#options.logger.debug({ consumer: this.#options.name, partition, err: errorSummary(error) }, 'seek deferred to the next join');
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      clearTimeout(this.#retryTimer);
      clearInterval(this.#lagTimer);
      const consumer = this.#consumer;
      this.#consumer = undefined;
      this.#setState('stopped');
      this.#rejectReady(new Error(`${this.#options.name} consumer was stopped before it joined its group`));
      try {
        await consumer?.disconnect();
      } finally {
        await this.#lagAdmin?.disconnect().catch(() => undefined);
      }
    })();
    return this.#stopping;
  }

  #setState(state: ConsumerState, error?: unknown): void {
    if (error !== undefined) this.#lastError = errorSummary(error);
    if (state === this.#state && error === undefined) return;
    this.#state = state;
    this.#sinceMs = Date.now();
    this.#options.observer?.state?.(this.health());
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    const { topic, logger } = this.#options;
    const groupId = this.#options.groupPerStart && this.#restarts > 0 ? `${this.#options.groupId}-r${this.#restarts}` : this.#options.groupId;
    let consumer: Consumer | undefined;
    try {
      if (this.#initial === undefined) this.#initial = (await this.#options.startPositions?.()) ?? new Map();
      if (this.#stopped) return;
      const built = this.#build(groupId);
      consumer = built;
      this.#consumer = built;
      // stop() may come while any of these is pending; it disconnects the consumer it finds, and
      // a step that then succeeds anyway must not leave a consumer running behind its back.
      const abandoned = (): boolean => this.#stopped || this.#consumer !== built;
      await built.connect();
      if (abandoned()) return void built.disconnect().catch(() => undefined);
      await built.subscribe({ topic, fromBeginning: this.#options.fromBeginning ?? false });
      if (abandoned()) return void built.disconnect().catch(() => undefined);
      // Resolves once joined, or once a failed join was reported as a CRASH (handled below).
      await built.run({ eachBatchAutoResolve: false, autoCommit: this.#options.commitOffsets ?? false, eachBatch: (payload) => this.#handle(payload, built) });
      if (this.#stopped && this.#consumer === undefined) void built.disconnect().catch(() => undefined);
    } catch (error) {
      // connect/subscribe/run threw before KafkaJS took the consumer over: tidy up, then the same
      // policy as a crash. A consumer that was never built (the start-position lookup failed)
      // counts as the current one.
      if (consumer) void consumer.disconnect().catch(() => undefined);
      if (consumer === undefined || consumer === this.#consumer) {
        this.#consumer = consumer;
        this.#crashed(error, consumer);
      } else {
        logger.debug({ err: errorSummary(error) }, 'a replaced consumer failed');
      }
    }
  }

  #build(groupId: string): Consumer {
    const { topic, logger } = this.#options;
    const consumer = this.#client.consumer({
      groupId,
      sessionTimeout: this.#options.sessionTimeoutMs ?? 30_000,
      maxWaitTimeInMs: this.#options.maxWaitTimeMs ?? 100,
      ...(this.#options.maxBytesPerPartition ? { maxBytesPerPartition: this.#options.maxBytesPerPartition } : {}),
      ...(this.#options.maxBytes ? { maxBytes: this.#options.maxBytes } : {}),
      retry: {
        retries: 5,
        initialRetryTime: 300,
        maxRetryTime: 5000,
        // KafkaJS would restart on its own, with its own delay and without telling anyone; every
        // crash comes to #crashed instead, which decides once and keeps health honest.
        restartOnFailure: async () => false,
      },
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (consumer !== this.#consumer || this.#stopped) return;
      // The listener runs inside KafkaJS's join, before the first fetch: seeks made here are
      // applied to that fetch, so no batch is read from anywhere else first.
      const assigned = payload.memberAssignment[topic] ?? [];
      for (const partition of assigned) {
        const at = this.#positions.get(partition)?.toString() ?? this.#initial?.get(partition);
        if (at !== undefined) consumer.seek({ topic, partition, offset: at });
      }
      const recovered = this.#state === 'reconnecting';
      this.#failures = 0;
      this.#setState('running');
      this.#resolveReady();
      logger.info({ consumer: this.#options.name, topic, groupId, partitions: assigned, restarts: this.#restarts }, recovered ? 'consumer reconnected' : 'consumer joined its group');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (consumer === this.#consumer) this.#crashed(payload.error, consumer);
    });
    // A fetch of nothing but transaction markers or aborted records: KafkaJS moves its own position
    // past them and says so only through this event (its `lastOffset` counts the filtered records).
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (consumer !== this.#consumer || this.#stopped || payload.topic !== topic || payload.batchSize > 0) return;
      const from = payload.firstOffset === null ? undefined : BigInt(payload.firstOffset);
      const at = this.#positions.get(payload.partition);
      // Only where this consumer stands: a seek made since that fetch says where the partition goes on from.
      if (from === undefined || (at !== undefined && at !== from)) return;
      this.#advance(payload.partition, BigInt(payload.lastOffset) + 1n, BigInt(payload.highWatermark));
    });
    return consumer;
  }

  #crashed(error: unknown, consumer: Consumer | undefined): void {
    if (this.#stopped || consumer !== this.#consumer) return;
    const { name, topic, logger } = this.#options;
    this.#consumer = undefined;
    if (!isRetriable(error)) {
      this.#setState('failed', error);
      logger.error({ consumer: name, topic, err: errorSummary(error) }, 'consumer failed on an error retrying cannot fix; it stays down');
      this.#rejectReady(error);
      return;
    }
    this.#failures += 1;
    this.#restarts += 1;
    const delayMs = backoffDelay(this.#failures, this.#backoff);
    this.#setState('reconnecting', error);
    logger.warn({ consumer: name, topic, err: errorSummary(error), delayMs, restarts: this.#restarts }, 'consumer lost Kafka; reconnecting');
    this.#retryTimer = setTimeout(() => void this.#attempt(), delayMs);
  }

  async #handle(payload: EachBatchPayload, consumer: Consumer): Promise<void> {
    const { batch } = payload;
    const last = batch.messages.at(-1);
    // A consumer this seam has let go of (stopped, or replaced after a crash) handles nothing more.
    if (!last || !payload.isRunning() || payload.isStale() || consumer !== this.#consumer) return;
    await this.#options.eachBatch({
      topic: batch.topic,
      partition: batch.partition,
      messages: batch.messages,
      highWatermark: batch.highWatermark,
      heartbeat: () => payload.heartbeat(),
      isStale: () => payload.isStale() || consumer !== this.#consumer,
    });
    // Sought while in hand: the seek says where the partition goes on from, not this batch's end.
    if (payload.isStale()) return;
    // KafkaJS's lastOffset counts the records it filtered out after the last message (a commit
    // marker, aborted records): never delivered, so the position moves past them too.
    const through = BigInt(batch.lastOffset()) > BigInt(last.offset) ? batch.lastOffset() : last.offset;
    payload.resolveOffset(through);
    this.#advance(batch.partition, BigInt(through) + 1n, BigInt(batch.highWatermark));
    this.#options.observer?.consumed?.(batch.messages.length);
    if (this.#options.commitOffsets) await payload.commitOffsetsIfNecessary();
    await payload.heartbeat();
  }

  #advance(partition: number, next: bigint, highWatermark: bigint): void {
    this.#positions.set(partition, next);
    this.#recordLag(partition, highWatermark - next);
    this.#options.onPosition?.(partition, next);
  }

  #recordLag(partition: number, lag: bigint): void {
    const value = Number(lag < 0n ? 0n : lag);
    this.#partitionLag.set(partition, value);
    this.#options.observer?.lag?.(partition, value);
  }

  /** Lag against the partition ends now, whether or not batches arrive (a dead consumer's lag grows). */
  async #refreshLag(): Promise<void> {
    if (this.#lagInFlight || this.#stopped) return;
    this.#lagInFlight = true;
    try {
      if (!this.#lagAdmin) {
        const admin = this.#client.admin();
        await admin.connect();
        this.#lagAdmin = admin;
      }
      const fromBeginning = this.#options.fromBeginning ?? false;
      for (const { partition, high, low } of await this.#lagAdmin.fetchTopicOffsets(this.#options.topic)) {
        const start = this.#initial?.get(partition);
        const known = this.#positions.get(partition) ?? (start === undefined ? undefined : BigInt(start));
        // Never fetched and no start position: it starts at the beginning or at the end.
        const position = known ?? (fromBeginning ? BigInt(low) : BigInt(high));
        this.#recordLag(partition, BigInt(high) - (position < BigInt(low) ? BigInt(low) : position));
      }
    } catch (error) {
      // The broker is down or busy: the lag stays as last measured, and health says why.
      this.#options.logger.debug({ consumer: this.#options.name, err: errorSummary(error) }, 'lag refresh failed');
      const admin = this.#lagAdmin;
      this.#lagAdmin = undefined;
      await admin?.disconnect().catch(() => undefined);
    } finally {
      this.#lagInFlight = false;
    }
  }
}
