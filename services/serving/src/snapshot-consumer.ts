import { CatchUp, endOffsetsNow, joinedReader, metricsObserver, startTopicConsumer, withRetries, type CatchingUpReader, type Kafka, type Logger, type TopicSpec } from '@reco/stream';
import type { ServingMetrics } from './metrics.js';
import type { SnapshotApplier } from './snapshot-applier.js';

export interface SnapshotConsumerOptions {
  kafka: Kafka;
  adapters: TopicSpec;
  /** Unique per replica and per start: every replica must see every snapshot, so no shared group. */
  groupId: string;
  applier: SnapshotApplier;
  metrics: ServingMetrics;
  logger: Logger;
}

/** Caught up once every snapshot that existed at start has been applied or refused. */
export type RunningSnapshotConsumer = CatchingUpReader;

/** Room for the largest snapshot plus batch framing: KafkaJS fetches 1 MiB per partition by default. */
const FETCH_HEADROOM_BYTES = 1024 * 1024;

/**
 * Reads `reco.adapters` from the start of the compacted log (the latest snapshot of every variant
 * survives compaction) and hands each message to the applier, through the consumer seam of
 * @reco/stream: after a broker restart it reconnects by itself and resumes after the last snapshot
 * it handled (so none is missed and none applied twice). Offsets are never committed and every
 * restart joins a fresh group: the group is this process's alone.
 *
 * "Caught up" is measured against the log end offsets as of start: once every partition's
 * consumed position reaches them (transaction markers included), the replica serves at least what
 * existed when it started.
 */
export async function startSnapshotConsumer(options: SnapshotConsumerOptions): Promise<RunningSnapshotConsumer> {
  const { kafka, adapters, logger, metrics } = options;
  const ends = await withRetries('reading the adapters end offsets', () => endOffsetsNow(kafka, adapters.name), { logger });
  metrics.snapshotsCaughtUp.set(0);
  const catchUp = new CatchUp(ends, () => {
    metrics.snapshotsCaughtUp.set(1);
    logger.info({ topic: adapters.name }, 'snapshot consumer caught up with the adapters topic');
  });

  const consumer = startTopicConsumer({
    kafka,
    name: 'snapshots',
    topic: adapters.name,
    groupId: options.groupId,
    groupPerStart: true,
    fromBeginning: true,
    maxBytesPerPartition: adapters.maxMessageBytes + FETCH_HEADROOM_BYTES,
    maxBytes: 2 * (adapters.maxMessageBytes + FETCH_HEADROOM_BYTES),
    logger,
    observer: metricsObserver(metrics.consumers, 'serving', adapters.name),
    eachBatch: async (batch) => {
      for (const message of batch.messages) {
        try {
          options.applier.applyMessage(message.value, message.key);
        } catch (error) {
          // The applier refuses bad snapshots itself; anything thrown here is a bug, and one bad
          // message must not stop every later snapshot from arriving.
          logger.error({ err: error, partition: batch.partition, offset: message.offset }, 'snapshot could not be applied');
        }
        catchUp.passed(batch.partition, BigInt(message.offset));
      }
    },
    // The updater publishes in transactions: the log ends on a commit marker, which never comes as
    // a message, so the position (past the marker) is what reaches the end offset.
    onPosition: (partition, next) => catchUp.passed(partition, next - 1n),
  });
  return joinedReader(consumer, catchUp);
}
