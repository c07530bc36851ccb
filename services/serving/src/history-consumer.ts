import { metricsObserver, startEventConsumer, type ConsumerHealth, type Kafka, type Logger, type TopicSpec } from '@reco/stream';
import type { HistoryStore } from './history-store.js';
import type { ItemCoVisits } from './model-api.js';
import type { ServingMetrics } from './metrics.js';
import type { PopularityCounter } from './popularity.js';

export interface HistoryConsumerOptions {
  kafka: Kafka;
  events: TopicSpec;
  /** Unique per replica and per start: every replica keeps every user's history. */
  groupId: string;
  history: HistoryStore;
  /** The replica's co-visit counts, which models read as their memory (the updater counts the same clicks). */
  coVisits: ItemCoVisits;
  popularity: PopularityCounter;
  metrics: ServingMetrics;
  logger: Logger;
  /** Start this far back in time (0: from the end of the topic as of start). */
  lookbackMs: number;
  now?: () => number;
}

export interface RunningHistoryConsumer {
  /** Running, reconnecting (after a broker restart, by itself) or failed: readiness reports it. */
  health(): ConsumerHealth;
  stop(): Promise<void>;
}

/**
 * Keeps the per-user history, the co-visit counts and the popularity counter from `reco.events`, through the consumer
 * seam of @reco/stream. It starts at the offsets of `now - lookback` per partition, looked up
 * before the consumer joins and applied as it joins, so no click produced after start-up can fall
 * between the two; after a reconnect it resumes right after the last batch it handled, so a broker
 * restart neither loses clicks nor appends one twice to a history.
 *
 * Invalid messages are only counted here: the updater's consumer owns dead-lettering for this
 * topic (N serving replicas writing the same dead letter N times would only add noise). No
 * offsets are committed and each restart joins a fresh group: the group is this process's alone.
 * The seam's consumer waits at most 100 ms per fetch, so a click reaches history well within a second.
 */
export async function startHistoryConsumer(options: HistoryConsumerOptions): Promise<RunningHistoryConsumer> {
  const { kafka, events, logger, metrics, history, coVisits, popularity } = options;
  const now = options.now ?? Date.now;
  let invalid = 0;
  const consumer = await startEventConsumer({
    kafka,
    name: 'history',
    groupId: options.groupId,
    groupPerStart: true,
    events,
    logger,
    startPositions: async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsetsByTimestamp(events.name, now() - options.lookbackMs);
        return new Map(offsets.map((p) => [p.partition, p.offset]));
      } finally {
        await admin.disconnect();
      }
    },
    observer: metricsObserver(metrics.consumers, 'serving', events.name),
    onInvalid: (count) => {
      if (invalid === 0 || Math.floor((invalid + count) / 1000) > Math.floor(invalid / 1000)) logger.warn({ invalid: invalid + count }, 'invalid events skipped by the history consumer');
      invalid += count;
    },
    onEvents: async (batch) => {
      for (const { event } of batch.events) {
        coVisits.learn(history.get(event.userId), event.itemId);
        history.append(event.userId, event.itemId);
        popularity.add(event.itemId);
      }
      metrics.historyEventsConsumed.inc(batch.events.length);
    },
  });
  return { health: () => consumer.health(), stop: () => consumer.stop() };
}
