import type { Interaction } from '@reco/data';
import { encodeEvent, type TopicSpec } from '@reco/stream';
import { Partitioners, type Kafka } from 'kafkajs';

export interface ClickBacklog {
  clicks: number;
  /** Per events partition, the end offset after producing: a snapshot covers the backlog when its offsets reach these. */
  endOffsets: Map<number, bigint>;
  produceMs: number;
}

/**
 * Produces `count` click events to the events topic before any consumer runs, so the reader faces
 * the whole backlog at once. Clicks are taken from `clicks` in order, cycling when `count` is
 * larger, with timestamps shifted by the stream's span per cycle so every user's clicks stay in
 * time order. Keyed by user and partitioned by the user number (as bench:fresh does), so a user's
 * clicks stay in one partition in order.
 */
export async function produceClickBacklog(options: {
  kafka: Kafka;
  events: TopicSpec;
  clicks: readonly Interaction[];
  count: number;
  /** Messages per produce request (default 2000: about 200 KB, well under the 1 MiB batch limit). */
  batchSize?: number;
}): Promise<ClickBacklog> {
  const { kafka, events, clicks, count } = options;
  if (clicks.length === 0) throw new Error('no clicks to produce');
  const first = clicks[0]?.ts ?? 0;
  const span = (clicks.at(-1)?.ts ?? first) - first + 1;
  const batchSize = options.batchSize ?? 2000;
  const partitions = events.numPartitions;
  const started = Date.now();
  // Every message names its partition; the partitioner is named only to silence KafkaJS's v2 notice.
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let from = 0; from < count; from += batchSize) {
      const messages = Array.from({ length: Math.min(batchSize, count - from) }, (_, k) => {
        const i = from + k;
        const click = clicks[i % clicks.length] as Interaction;
        const ts = click.ts + Math.floor(i / clicks.length) * span;
        return {
          key: click.userId,
          partition: Number(click.userId.replace(/\D/g, '') || 0) % partitions,
          value: encodeEvent({ userId: click.userId, itemId: click.itemId, type: 'click', ts }),
        };
      });
      await producer.send({ topic: events.name, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(events.name);
    const endOffsets = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    const produced = offsets.reduce((sum, o) => sum + BigInt(o.high) - BigInt(o.low), 0n);
    if (produced !== BigInt(count)) throw new Error(`expected ${count} events on ${events.name}, found ${produced}: is the topic shared with another producer?`);
    return { clicks: count, endOffsets, produceMs: Date.now() - started };
  } finally {
    await admin.disconnect();
  }
}

/** Whether a snapshot's trained-up-to offsets (next offset per partition) reach every end offset. */
export function coversBacklog(offsets: Readonly<Record<string, string>>, endOffsets: ReadonlyMap<number, bigint>): boolean {
  for (const [partition, end] of endOffsets) if (BigInt(offsets[String(partition)] ?? '0') < end) return false;
  return true;
}
