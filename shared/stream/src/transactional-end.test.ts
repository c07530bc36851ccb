import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatchUp, endOffsetsNow } from './catch-up.js';
import { ensureTopics } from './ensure-topics.js';
import { createKafkaClient } from './kafka-client.js';
import { readKafkaConfig } from './kafka-config.js';
import { silentLogger } from './logger.js';
import { readToEnd } from './read-to-end.js';
import { testKafkaBrokers, uniqueName } from './testing/index.js';
import { startTopicConsumer } from './topic-consumer.js';
import { topicSpecs, type TopicSpec } from './topics.js';

// A topic written in transactions (the updater's snapshots) ends on a commit marker: an offset
// that is never delivered. Reading "to the end" must still finish, on the real broker.
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let topic: TopicSpec;

beforeAll(async () => {
  kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: 'tx-end-it' }), silentLogger);
  admin = kafka.admin();
  await admin.connect();
  topic = topicSpecs({ prefix: `${uniqueName('txend')}.` }).adapters;
  await ensureTopics(admin, [topic]);
  producer = kafka.producer({ transactionalId: uniqueName('tx-end'), idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  for (const value of ['a', 'b', 'c']) {
    const tx = await producer.transaction();
    await tx.send({ topic: topic.name, messages: [{ key: 'k', value }] });
    await tx.commit();
  }
  // An aborted one at the end too: its record and its marker are both never delivered.
  const aborted = await producer.transaction();
  await aborted.send({ topic: topic.name, messages: [{ key: 'k', value: 'aborted' }] });
  await aborted.abort();
}, 60_000);

afterAll(async () => {
  await Promise.all([admin?.disconnect(), producer?.disconnect()]);
});

describe('reading a transactional topic to its end', () => {
  it('the end offset lies past the last delivered message (markers take offsets)', async () => {
    // 3 committed records + 3 commit markers + 1 aborted record + its abort marker. The
    // coordinator writes a marker after it answers EndTxn, so the last one may land a moment later.
    let end: bigint | undefined;
    for (const deadline = Date.now() + 10_000; end !== 8n && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      end = (await endOffsetsNow(kafka, topic.name)).get(0);
    }
    expect(end).toBe(8n);
  });

  it('readToEnd finishes, with the committed records only', async () => {
    const seen: string[] = [];
    const started = Date.now();
    const { messages } = await readToEnd(kafka, topic.name, (message) => void seen.push(String(message.value)), { timeoutMs: 15_000 });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(messages).toBe(3);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);

  it('the consumer seam reports its position past the markers, so a CatchUp on it completes and lag reads 0', async () => {
    const ends = await endOffsetsNow(kafka, topic.name);
    const catchUp = new CatchUp(ends);
    const seen: string[] = [];
    const lags: number[] = [];
    const consumer = startTopicConsumer({
      kafka,
      name: 'tx-end',
      topic: topic.name,
      groupId: uniqueName('tx-end-group'),
      fromBeginning: true,
      lagRefreshMs: 0,
      logger: silentLogger,
      observer: { lag: (_partition, lag) => void lags.push(lag) },
      eachBatch: async (batch) => {
        for (const message of batch.messages) {
          seen.push(String(message.value));
          catchUp.passed(batch.partition, BigInt(message.offset));
        }
      },
      onPosition: (partition, next) => catchUp.passed(partition, next - 1n),
    });
    try {
      await consumer.ready;
      catchUp.arm();
      await Promise.race([catchUp.whenCaughtUp, new Promise((_, reject) => setTimeout(() => reject(new Error(`not caught up; saw ${seen.join(',')}`)), 15_000))]);
      expect(seen).toEqual(['a', 'b', 'c']);
      expect(consumer.positions().get(0)).toBe(8n);
      expect(lags.at(-1)).toBe(0);
    } finally {
      await consumer.stop();
    }
  }, 30_000);
});
