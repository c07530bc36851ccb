import type { Kafka, Producer } from 'kafkajs';
import { DeadLetterWriter, type DeadLetter } from './dead-letter.js';
import { decodeEvent, formatIssues, type RecoEvent } from './event-contract.js';
import type { Logger } from './logger.js';
import { startTopicConsumer, type ConsumerObserver, type TopicConsumer } from './topic-consumer.js';
import type { Backoff } from './with-retries.js';
import type { TopicSpec } from './topics.js';

export interface ConsumedEvent {
  event: RecoEvent;
  partition: number;
  offset: string;
}

export interface EventBatch {
  topic: string;
  partition: number;
  events: ConsumedEvent[];
  /** Offset of the last message of the batch, valid or not: everything up to it has been handled. */
  lastOffset: string;
  /** The partition's end offset when the batch was fetched (for lag). */
  highWatermark: string;
  /** Call during long work so the group coordinator does not evict this member. */
  heartbeat(): Promise<void>;
  /** True once the partition was sought after this batch was fetched (see TopicBatch.isStale). */
  isStale(): boolean;
}

export interface EventConsumerOptions {
  kafka: Kafka;
  /** This reader's name in logs, health and metrics (default `events`). */
  name?: string;
  groupId: string;
  /** Serving's replicas: a fresh group per restart (see TopicConsumerOptions.groupPerStart). */
  groupPerStart?: boolean;
  events: TopicSpec;
  /**
   * Where invalid messages go. Exactly one consumer of the events topic should own dead-lettering
   * (the updater); other readers (serving's history) leave it out and only count them.
   */
  deadLetter?: { topic: TopicSpec; producer: Producer };
  onInvalid?(count: number): void;
  /** Commit offsets after each batch, or never (default): for readers whose position lives elsewhere. */
  commitOffsets?: boolean;
  logger: Logger;
  /** Valid events of one partition batch, in offset order. The batch is handled once this resolves. */
  onEvents(batch: EventBatch): Promise<void>;
  fromBeginning?: boolean;
  /** Start offsets per partition, looked up once before the first join (see TopicConsumerOptions). */
  startPositions?: () => Promise<ReadonlyMap<number, string>>;
  sessionTimeoutMs?: number;
  maxWaitTimeMs?: number;
  backoff?: Backoff;
  lagRefreshMs?: number;
  observer?: ConsumerObserver;
}

/**
 * Consumes the events topic through the consumer seam (topic-consumer.ts: positions, lag, crash
 * policy, health). Each message is decoded and validated; invalid ones go to the dead-letter topic
 * (when this reader owns it) with every reason, and only then is the batch handled, so a message
 * is either handled, dead-lettered, or read again after a crash or reconnect: never silently lost.
 * `onEvents` is called for every batch, even one with no valid event, so readers that track their
 * own position see it advance. Resolves once the consumer has joined its group (it keeps
 * retrying a lost connection until then); rejects if it failed on an error retrying cannot fix.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<TopicConsumer> {
  const { logger } = options;
  const deadLetters = options.deadLetter ? new DeadLetterWriter(options.deadLetter) : undefined;
  const consumer = startTopicConsumer({
    kafka: options.kafka,
    name: options.name ?? 'events',
    topic: options.events.name,
    groupId: options.groupId,
    logger,
    groupPerStart: options.groupPerStart,
    fromBeginning: options.fromBeginning,
    startPositions: options.startPositions,
    commitOffsets: options.commitOffsets,
    sessionTimeoutMs: options.sessionTimeoutMs,
    maxWaitTimeMs: options.maxWaitTimeMs,
    backoff: options.backoff,
    lagRefreshMs: options.lagRefreshMs,
    observer: options.observer,
    eachBatch: async (batch) => {
      const valid: ConsumedEvent[] = [];
      const rejected: DeadLetter[] = [];
      for (const message of batch.messages) {
        const decoded = decodeEvent(message.value);
        if (decoded.ok) {
          valid.push({ event: decoded.value, partition: batch.partition, offset: message.offset });
        } else {
          rejected.push({
            raw: message.value,
            key: message.key,
            reason: formatIssues(decoded.issues),
            issues: decoded.issues,
            source: { kind: 'topic', topic: batch.topic, partition: batch.partition, offset: message.offset },
          });
        }
      }
      if (rejected.length > 0) {
        if (deadLetters) {
          await deadLetters.write(rejected);
          logger.warn({ topic: batch.topic, partition: batch.partition, count: rejected.length }, 'invalid events dead-lettered');
        }
        options.onInvalid?.(rejected.length);
      }
      const last = batch.messages[batch.messages.length - 1];
      if (!last) return;
      await options.onEvents({
        topic: batch.topic,
        partition: batch.partition,
        events: valid,
        lastOffset: last.offset,
        highWatermark: batch.highWatermark,
        heartbeat: () => batch.heartbeat(),
        isStale: () => batch.isStale(),
      });
    },
  });
  try {
    await consumer.ready;
  } catch (error) {
    await consumer.stop().catch(() => undefined);
    throw error;
  }
  return consumer;
}
