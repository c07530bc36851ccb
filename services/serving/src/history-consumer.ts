import type { Kafka } from 'kafkajs';
import { startEventConsumer, type Logger, type TopicSpec } from '@reco/stream';
import type { HistoryStore } from './history-store.js';
import type { ServingMetrics } from './metrics.js';
import type { PopularityCounter } from './popularity.js';

export interface HistoryConsumerOptions {
  kafka: Kafka;
  events: TopicSpec;
  /** Unique per replica and per start: every replica keeps every user's history. */
  groupId: string;
  history: HistoryStore;
  popularity: PopularityCounter;
  metrics: ServingMetrics;
  logger: Logger;
  /** Start this far back in time (0: from the end of the topic as of start). */
  lookbackMs: number;
  now?: () => number;
}

export interface RunningHistoryConsumer {
  /** Set when the consumer crashed and will not restart (readiness reports it). */
  readonly failure: string | undefined;
  stop(): Promise<void>;
}

/**
 * Keeps the per-user history and the popularity counter from `reco.events`, starting at the
 * offsets of `now - lookback` per partition, looked up before the consumer joins and sought to
 * as soon as it has (KafkaJS drops fetched batches of a partition with a pending seek), so no
 * click produced after start-up can fall between the two. Setting the fresh group's offsets with
 * the admin client instead would cost KafkaJS about five seconds.
 *
 * Invalid messages are only counted here: the updater's consumer owns dead-lettering for this
 * topic (N serving replicas writing the same dead letter N times would only add noise). No
 * offsets are committed: the group is this process's alone and the start is always a lookback.
 * The stream package's consumer waits at most 100 ms per fetch, so a click reaches history
 * well within a second.
 */
export async function startHistoryConsumer(options: HistoryConsumerOptions): Promise<RunningHistoryConsumer> {
  const { kafka, events, logger, metrics, history, popularity } = options;
  const now = options.now ?? Date.now;
  const admin = kafka.admin();
  await admin.connect();
  let start: { partition: number; offset: string }[];
  try {
    start = await admin.fetchTopicOffsetsByTimestamp(events.name, now() - options.lookbackMs);
  } finally {
    await admin.disconnect();
  }
  let invalid = 0;
  const running = await startEventConsumer({
    kafka,
    groupId: options.groupId,
    events,
    logger,
    commitOffsets: false,
    onInvalid: (count) => {
      if (invalid === 0 || Math.floor((invalid + count) / 1000) > Math.floor(invalid / 1000)) logger.warn({ invalid: invalid + count }, 'invalid events skipped by the history consumer');
      invalid += count;
    },
    onEvents: async (batch) => {
      for (const { event } of batch.events) {
        history.append(event.userId, event.itemId);
        popularity.add(event.itemId);
      }
      metrics.historyEventsConsumed.inc(batch.events.length);
      metrics.consumerLag.set({ service: 'serving', topic: batch.topic, partition: String(batch.partition) }, Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n));
    },
  });
  const { consumer } = running;
  for (const p of start) consumer.seek({ topic: events.name, partition: p.partition, offset: p.offset });
  let failure: string | undefined;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) failure = `history consumer stopped: ${payload.error.message}`;
  });
  return {
    get failure() {
      return failure;
    },
    stop: () => running.stop(),
  };
}
