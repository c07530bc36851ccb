import { CatchUp, endOffsetsNow, joinedReader, metricsObserver, startTopicConsumer, withRetries, type CatchingUpReader, type Kafka, type Logger, type TopicSpec } from '@reco/stream';
import type { ItemDirectory } from './item-directory.js';
import { decodeItemMessage } from './item-records.js';
import type { ServingMetrics } from './metrics.js';

export interface ItemsConsumerOptions {
  kafka: Kafka;
  items: TopicSpec;
  /** Unique per replica and per start: every replica keeps the whole catalogue, so no shared group. */
  groupId: string;
  directory: ItemDirectory;
  metrics: ServingMetrics;
  logger: Logger;
}

/** Caught up once every record that existed at start has been applied (or refused). */
export type RunningItemsConsumer = CatchingUpReader;

/**
 * Keeps the replica's item catalogue in step with `reco.items`, through the consumer seam of
 * @reco/stream: read from the start of the compacted log (the latest record of every item survives
 * compaction), then every write any replica makes, within about a second. After a broker restart it
 * resumes after the last record it handled. Offsets are never committed and each restart joins a
 * fresh group: the group is this process's alone.
 *
 * "Caught up" is measured against the end offsets as of start, as for snapshots: a replica that
 * answered before it would recommend items another replica has marked unavailable.
 */
export async function startItemsConsumer(options: ItemsConsumerOptions): Promise<RunningItemsConsumer> {
  const { kafka, items, directory, logger, metrics } = options;
  const ends = await withRetries('reading the items end offsets', () => endOffsetsNow(kafka, items.name), { logger });
  const catchUp = new CatchUp(ends, () =>
    logger.info({ topic: items.name, items: directory.size, unavailable: directory.unavailable, titled: directory.titled }, 'items consumer caught up with the items topic'),
  );

  let invalid = 0;
  const consumer = startTopicConsumer({
    kafka,
    name: 'items',
    topic: items.name,
    groupId: options.groupId,
    groupPerStart: true,
    fromBeginning: true,
    logger,
    observer: metricsObserver(metrics.consumers, 'serving', items.name),
    eachBatch: async (batch) => {
      for (const message of batch.messages) {
        const decoded = decodeItemMessage(message.key, message.value);
        const offset = BigInt(message.offset);
        if (!decoded.ok) {
          // Counted and logged, never applied: one bad record must not stop the catalogue.
          invalid++;
          logger.warn({ topic: items.name, partition: batch.partition, offset: message.offset, reason: decoded.reason, invalid }, 'item record refused');
        } else if (decoded.record === null) directory.forget(decoded.itemId, offset);
        else directory.apply(decoded.record, offset);
        catchUp.passed(batch.partition, offset);
      }
    },
  });
  return joinedReader(consumer, catchUp);
}
