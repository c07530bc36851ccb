import type { Kafka } from 'kafkajs';
import { isRetriable, type Logger, type TopicSpec } from '@reco/stream';
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
  /** Set when the consumer crashed and will not restart (readiness reports it). */
  readonly failure: string | undefined;
  stop(): Promise<void>;
}

/** Room for the largest snapshot plus batch framing: KafkaJS fetches 1 MiB per partition by default. */
const FETCH_HEADROOM_BYTES = 1024 * 1024;

/**
 * Reads `reco.adapters` from the start of the compacted log (the latest snapshot of every variant
 * survives compaction) and hands each message to the applier. Offsets are never committed: the
 * group is this process's alone and a restart reads the log from the start again anyway.
 *
 * "Caught up" is measured against the log end offsets as of start: once every partition's
 * consumed position reaches them, the replica serves at least what existed when it started.
 */
export async function startSnapshotConsumer(options: SnapshotConsumerOptions): Promise<RunningSnapshotConsumer> {
  const { kafka, adapters, logger, metrics } = options;
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  try {
    ends = await admin.fetchTopicOffsets(adapters.name);
  } finally {
    await admin.disconnect();
  }
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

  const consumer = kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: adapters.maxMessageBytes + FETCH_HEADROOM_BYTES,
    maxBytes: 2 * (adapters.maxMessageBytes + FETCH_HEADROOM_BYTES),
    retry: {
      retries: 5,
      restartOnFailure: async (error) => {
        const restart = isRetriable(error);
        logger.error({ err: error, restart }, 'snapshot consumer crashed');
        return restart;
      },
    },
  });
  let failure: string | undefined;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) failure = `snapshot consumer stopped: ${payload.error.message}`;
  });
  await consumer.connect();
  await consumer.subscribe({ topic: adapters.name, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      for (const message of batch.messages) {
        if (!payload.isRunning() || payload.isStale()) return;
        try {
          options.applier.applyMessage(message.value, message.key);
        } catch (error) {
          // The applier refuses bad snapshots itself; anything thrown here is a bug, and one bad
          // message must not stop every later snapshot from arriving.
          logger.error({ err: error, partition: batch.partition, offset: message.offset }, 'snapshot could not be applied');
        }
        payload.resolveOffset(message.offset);
        const end = pending.get(batch.partition);
        if (end !== undefined && BigInt(message.offset) + 1n >= end) pending.delete(batch.partition);
        checkCaughtUp();
      }
      const last = batch.messages.at(-1);
      if (last !== undefined) metrics.consumerLag.set({ service: 'serving', topic: batch.topic, partition: String(batch.partition) }, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n));
      await payload.heartbeat();
    },
  });
  checkCaughtUp();
  return {
    get caughtUp() {
      return caughtUp;
    },
    whenCaughtUp,
    get failure() {
      return failure;
    },
    stop: async () => {
      await consumer.disconnect();
    },
  };
}
