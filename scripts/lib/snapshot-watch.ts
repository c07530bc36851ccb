import { randomUUID } from 'node:crypto';
import { openSnapshot, type SnapshotMeta, type SnapshotTrust } from '@reco/model';
import type { TopicSpec } from '@reco/stream';
import type { Kafka } from 'kafkajs';

export interface SeenSnapshot {
  meta: SnapshotMeta;
  /** When this process decoded it (epoch ms). */
  receivedAt: number;
}

export interface SnapshotWatch {
  /** Every snapshot read so far, in log order (metadata only: tensors are dropped). */
  readonly seen: readonly SeenSnapshot[];
  /** Messages that did not decode, with the reason (a benchmark should report, not skip, them). */
  readonly undecodable: readonly string[];
  stop(): Promise<void>;
}

/** Room for the largest snapshot plus batch framing (as serving's snapshot consumer allows). */
const FETCH_HEADROOM_BYTES = 1024 * 1024;

/**
 * Follows the adapters topic from its beginning in a group of its own and keeps the metadata of
 * every snapshot published on it: the exact "trained up to" signal (offsets, examples trained,
 * publish time) for whoever waits on an updater. Start it before the updater, so no snapshot is
 * missed (it reads from the start anyway). `trust` is the run's key (or insecure), as the services have it.
 */
export async function watchSnapshots(kafka: Kafka, adapters: TopicSpec, trust: SnapshotTrust): Promise<SnapshotWatch> {
  const seen: SeenSnapshot[] = [];
  const undecodable: string[] = [];
  const consumer = kafka.consumer({
    groupId: `${adapters.name}.watch-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: adapters.maxMessageBytes + FETCH_HEADROOM_BYTES,
    maxBytes: 2 * (adapters.maxMessageBytes + FETCH_HEADROOM_BYTES),
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: adapters.name, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.value === null) return;
        // The same verification serving applies: a record it would refuse is not progress.
        const opened = openSnapshot(message.value, trust);
        if (opened.ok) seen.push({ meta: opened.snapshot.meta, receivedAt: Date.now() });
        else undecodable.push(`offset ${message.offset}: ${opened.reason}: ${opened.message}`);
      },
    });
  } catch (error) {
    await consumer.disconnect();
    throw error;
  }
  return {
    seen,
    undecodable,
    stop: () => consumer.disconnect(),
  };
}
