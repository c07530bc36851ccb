import { metricsObserver, startTopicConsumer, withRetries, type ConsumerHealth, type Kafka, type Logger, type TopicSpec } from '@reco/stream';
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

export interface RunningSnapshotConsumer {
  /** True once every snapshot that existed at start has been applied or refused. */
  readonly caughtUp: boolean;
  /** Resolves when `caughtUp` becomes true. */
  readonly whenCaughtUp: Promise<void>;
  /** Running, reconnecting (after a broker restart, by itself) or failed: readiness reports it. */
  health(): ConsumerHealth;
  stop(): Promise<void>;
}

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
 * consumed position reaches them, the replica serves at least what existed when it started.
 */
export async function startSnapshotConsumer(options: SnapshotConsumerOptions): Promise<RunningSnapshotConsumer> {
  const { kafka, adapters, logger, metrics } = options;
  const ends = await withRetries(
    'reading the adapters end offsets',
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return await admin.fetchTopicOffsets(adapters.name);
      } finally {
        await admin.disconnect();
      }
    },
    { logger },
  );
  const pending = new Map<number, bigint>();
  for (const p of ends) if (BigInt(p.high) > BigInt(p.low)) pending.set(p.partition, BigInt(p.high));

  let caughtUp = false;
  let markCaughtUp: () => void = () => undefined;
  const whenCaughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  const checkCaughtUp = (): void => {
    if (caughtUp || pending.size > 0) return;
    caughtUp = true;
    metrics.snapshotsCaughtUp.set(1);
    logger.info({ topic: adapters.name }, 'snapshot consumer caught up with the adapters topic');
    markCaughtUp();
  };
  metrics.snapshotsCaughtUp.set(0);

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
        const end = pending.get(batch.partition);
        if (end !== undefined && BigInt(message.offset) + 1n >= end) pending.delete(batch.partition);
        checkCaughtUp();
      }
    },
  });
  try {
    await consumer.ready;
  } catch (error) {
    await consumer.stop().catch(() => undefined);
    throw error;
  }
  checkCaughtUp();
  return {
    get caughtUp() {
      return caughtUp;
    },
    whenCaughtUp,
    health: () => consumer.health(),
    stop: () => consumer.stop(),
  };
}
