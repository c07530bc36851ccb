import { decodeSnapshot, readToEnd, withRetries, type AdapterSnapshot, type Kafka, type Logger } from '@reco/stream';

/**
 * The newest snapshot of each variant on the (compacted) adapters topic, as of now. Until the
 * cleaner runs, older versions of a key are still in the log, so the highest version wins rather
 * than the last one read. A message that does not decode is logged and skipped: it can never be
 * resumed from, and refusing to start over it would stop training for every variant.
 *
 * The read is retried from scratch on transient failures (a first start right after the broker
 * came up once crashed the updater on NOT_LEADER_FOR_PARTITION here).
 */
export async function readLatestSnapshots(kafka: Kafka, topic: string, logger: Logger): Promise<Map<string, AdapterSnapshot>> {
  return withRetries(
    'reading the latest snapshots',
    async () => {
      const latest = new Map<string, AdapterSnapshot>();
      await readToEnd(kafka, topic, (message, partition) => {
        if (message.value === null) return; // a tombstone: the variant was retired
        try {
          const snapshot = decodeSnapshot(message.value);
          const current = latest.get(snapshot.meta.variant);
          if (!current || snapshot.meta.version > current.meta.version) latest.set(snapshot.meta.variant, snapshot);
        } catch (error) {
          logger.warn({ partition, offset: message.offset, err: String(error) }, 'skipping an undecodable snapshot');
        }
      });
      return latest;
    },
    { logger },
  );
}
