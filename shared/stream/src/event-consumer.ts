import type { Consumer, Kafka, Producer } from 'kafkajs';
import { DeadLetterWriter, type DeadLetter } from './dead-letter.js';
import { decodeEvent, formatIssues, type RecoEvent } from './event-contract.js';
import { isRetriable } from './errors.js';
import type { Logger } from './logger.js';
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
}

export interface EventConsumerOptions {
  kafka: Kafka;
  groupId: string;
  events: TopicSpec;
  /**
   * Where invalid messages go. Exactly one consumer of the events topic should own dead-lettering
   * (the updater); other readers (serving's history) leave it out and only count them.
   */
  deadLetter?: { topic: TopicSpec; producer: Producer };
  onInvalid?(count: number): void;
  /** Commit offsets after each batch (default), or never: for readers whose position lives elsewhere. */
  commitOffsets?: boolean;
  logger: Logger;
  /** Valid events of one partition batch, in offset order. Offsets are committed only after it resolves. */
  onEvents(batch: EventBatch): Promise<void>;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  /**
   * How long the broker may hold a fetch open when there is nothing new. KafkaJS's 5 s default
   * would delay the first records after a quiet spell; a click must reach history within a second.
   */
  maxWaitTimeMs?: number;
}

export interface RunningEventConsumer {
  consumer: Consumer;
  stop(): Promise<void>;
}

/**
 * Consumes the events topic in a consumer group. Each message is decoded and validated; invalid ones
 * go to the dead-letter topic (when this reader owns it) with every reason, and only then is the
 * batch's offset committed, so a message is either handled, dead-lettered, or consumed again after
 * a crash: never silently lost. `onEvents` is called for every batch, even one with no valid event,
 * so readers that track their own position see it advance.
 * A crash in `onEvents` restarts the consumer if the error is retriable (KafkaJS errors say so);
 * otherwise the consumer stops and the error is logged for the service's supervisor to act on.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<RunningEventConsumer> {
  const { kafka, logger } = options;
  const deadLetters = options.deadLetter ? new DeadLetterWriter(options.deadLetter) : undefined;
  const commit = options.commitOffsets ?? true;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
    retry: {
      retries: 5,
      restartOnFailure: async (error) => {
        const restart = isRetriable(error);
        logger.error({ err: error, restart }, 'event consumer crashed');
        return restart;
      },
    },
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.events.name, fromBeginning: options.fromBeginning ?? false });
  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: commit,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (!payload.isRunning() || payload.isStale()) return;
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
      const last = batch.messages.at(-1);
      if (!last) return;
      const heartbeat = (): Promise<void> => payload.heartbeat();
      await options.onEvents({
        topic: batch.topic,
        partition: batch.partition,
        events: valid,
        lastOffset: last.offset,
        highWatermark: batch.highWatermark,
        heartbeat,
      });
      payload.resolveOffset(last.offset);
      if (commit) await payload.commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  return {
    consumer,
    stop: async () => {
      await consumer.disconnect();
    },
  };
}
