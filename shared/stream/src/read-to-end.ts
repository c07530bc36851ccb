import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { endOffsetsNow } from './catch-up.js';
import { StreamError } from './errors.js';

/**
 * Reads a topic from its first retained offset up to the end offsets it has *now*, then stops.
 * For compacted topics like `reco.adapters` this is "the latest value of every key" as of the
 * call: the updater resumes from it and serving uses it to know when it has caught up. A fresh,
 * throwaway group id is used so no committed offsets are read or left behind that matter.
 * Any failure rejects (nothing is retried here): wrap the call in withRetries.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void | Promise<void>,
  options: { timeoutMs?: number; groupIdPrefix?: string } = {},
): Promise<{ messages: number }> {
  const ends = await endOffsetsNow(kafka, topic);
  if (ends.size === 0) return { messages: 0 };

  const consumer = kafka.consumer({
    groupId: `${options.groupIdPrefix ?? 'reco-read-to-end'}-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    // A crash (the broker restarting under a start-up read) fails the read at once, for the caller's
    // withRetries to judge and retry from scratch, instead of KafkaJS restarting it behind our back
    // until the timeout, or (for a crash it deems fatal) never settling at all.
    retry: { restartOnFailure: async () => false },
  });
  let messages = 0;
  const pending = new Set(ends.keys());
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StreamError('RECO_ERR_KAFKA_UNAVAILABLE', `readToEnd(${topic}) did not reach the end offsets within ${options.timeoutMs ?? 30_000} ms`)),
        options.timeoutMs ?? 30_000,
      );
      // Offsets of compacted-away records are skipped and transaction markers (the last offset of
      // a topic written in transactions) are never delivered, so "reached" means that the last
      // offset of a fetched batch, filtered records included, is at or past end - 1.
      const reached = (partition: number, lastOffset: bigint): void => {
        const end = ends.get(partition);
        if (end === undefined || lastOffset < end - 1n || !pending.delete(partition)) return;
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        reject(payload.error);
      });
      // Emitted after every batch, one of nothing but markers or aborted records included.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic === topic) reached(payload.partition, BigInt(payload.lastOffset));
      });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message, partition }) => {
            const end = ends.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return;
            await onMessage(message, partition);
            messages += 1;
            reached(partition, BigInt(message.offset));
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return { messages };
}
