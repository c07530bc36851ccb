import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerHealth, ConsumerState } from './consumer-health.js';
import { consumerNotReadyReason } from './consumer-health.js';
import { ensureTopics } from './ensure-topics.js';
import { createKafkaClient } from './kafka-client.js';
import { readKafkaConfig } from './kafka-config.js';
import type { Logger } from './logger.js';
import { testKafkaBrokers, uniqueName } from './testing/index.js';
import { brokerGoneCrash } from './testing/kafkajs-errors.js';
import { startTopicConsumer, type TopicConsumer } from './topic-consumer.js';
import type { TopicSpec } from './topics.js';
import type { Kafka, Producer } from 'kafkajs';

// The seam against a real broker: what KafkaJS does with seeks, crashes and groups is exactly
// what these tests are about, so nothing here is faked.
let kafka: Kafka;
let producer: Producer;
const running: TopicConsumer[] = [];

beforeAll(async () => {
  kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: 'topic-consumer-test' }), silent());
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  await Promise.allSettled(running.map((c) => c.stop()));
  await producer?.disconnect();
});

function silent(lines: { msg: string; fields: object }[] = []): Logger {
  const keep = (fields: object, msg?: string): void => void lines.push({ msg: msg ?? '', fields });
  return { debug: () => undefined, info: keep, warn: keep, error: keep };
}

async function freshTopic(label: string, partitions = 1): Promise<TopicSpec> {
  const spec: TopicSpec = { name: uniqueName(label), numPartitions: partitions, replicationFactor: 1, configs: {}, maxMessageBytes: 1024 * 1024 };
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [spec]);
  await admin.disconnect();
  return spec;
}

async function produce(topic: string, from: number, to: number, partition = 0): Promise<void> {
  const messages = Array.from({ length: to - from }, (_, i) => ({ value: `m${from + i}`, partition }));
  await producer.send({ topic, messages });
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the consumer seam over a real broker', () => {
  it('starts at the given positions, survives a retriable crash without skipping or repeating a message, and reports each state', async () => {
    const topic = await freshTopic('seam-crash');
    await produce(topic.name, 0, 20);
    const handled: string[] = [];
    const states: ConsumerState[] = [];
    const lines: { msg: string; fields: object }[] = [];
    let crashAt: string | undefined = 'm30';
    const consumer = startTopicConsumer({
      kafka,
      name: 'test',
      topic: topic.name,
      groupId: uniqueName('seam-group'),
      groupPerStart: true,
      startPositions: async () => new Map([[0, '5']]),
      backoff: { initialMs: 50, maxMs: 200 },
      lagRefreshMs: 0,
      logger: silent(lines),
      observer: { state: (h) => states.push(h.state) },
      eachBatch: async (batch) => {
        const values = batch.messages.map((m) => m.value?.toString() ?? '');
        if (crashAt !== undefined && values.includes(crashAt)) {
          crashAt = undefined;
          throw brokerGoneCrash();
        }
        handled.push(...values);
      },
    });
    running.push(consumer);
    await consumer.ready;
    await until('the first 15 messages', () => (handled.length >= 15 ? true : undefined));
    await produce(topic.name, 20, 40);
    await until('every message after the crash', () => (handled.includes('m39') ? true : undefined));
    // m0..m4 are before the start position; each later one exactly once, the crashed batch included.
    expect(handled).toEqual(Array.from({ length: 35 }, (_, i) => `m${i + 5}`));
    expect(consumer.health()).toMatchObject({ state: 'running', restarts: 1, name: 'test', topic: topic.name });
    expect(consumer.health().lastError).toContain('ECONNREFUSED');
    expect(states).toEqual(['starting', 'running', 'reconnecting', 'running']);
    expect(consumer.positions().get(0)).toBe(40n);
    // A fresh group after the restart: a dead member of the old one cannot hold the join up.
    const joins = lines.filter((l) => l.msg === 'consumer joined its group' || l.msg === 'consumer reconnected').map((l) => (l.fields as { groupId: string }).groupId);
    expect(joins).toHaveLength(2);
    expect(joins[1]).toBe(`${joins[0]}-r1`);
    await consumer.stop();
    expect(consumer.health().state).toBe('stopped');
  });

  it('stays failed after an error retrying cannot fix, and its lag keeps growing while it is down', async () => {
    const topic = await freshTopic('seam-failed', 2);
    await produce(topic.name, 0, 3, 0);
    let calls = 0;
    const consumer = startTopicConsumer({
      kafka,
      name: 'broken',
      topic: topic.name,
      groupId: uniqueName('seam-failed-group'),
      fromBeginning: true,
      backoff: { initialMs: 50, maxMs: 200 },
      lagRefreshMs: 200,
      logger: silent(),
      eachBatch: async () => {
        calls++;
        throw new TypeError("Cannot read properties of undefined (reading 'itemId')");
      },
    });
    running.push(consumer);
    const failed = await until('the failed state', () => (consumer.health().state === 'failed' ? consumer.health() : undefined));
    expect(failed.restarts).toBe(0);
    expect(calls).toBe(1); // KafkaJS does not retry a bug, and neither does the seam
    expect(consumerNotReadyReason(failed)).toBe('broken consumer failed and will not restart (see the service log)');
    // It did join before the first batch failed: `ready` is about joining, health about now.
    await expect(consumer.ready).resolves.toBeUndefined();
    await produce(topic.name, 3, 10, 1);
    const lagging = await until('the lag of a dead consumer', () => (consumer.health().lag === 10 ? consumer.health() : undefined), 10_000);
    expect(lagging.state).toBe('failed');
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBe(1);
    await consumer.stop();
  });

  it('stopped while it is still connecting, it never consumes afterwards', async () => {
    const topic = await freshTopic('seam-early-stop');
    await produce(topic.name, 0, 5);
    let handled = 0;
    const consumer = startTopicConsumer({
      kafka,
      name: 'early',
      topic: topic.name,
      groupId: uniqueName('seam-early-group'),
      fromBeginning: true,
      lagRefreshMs: 0,
      logger: silent(),
      eachBatch: async (batch) => void (handled += batch.messages.length),
    });
    // Stopped in the same tick as it started: it cannot have joined yet. (A 20 ms wait was
    // enough for a join on an idle local broker, and the test then raced its own subject.)
    await consumer.stop();
    await expect(consumer.ready).rejects.toThrow('stopped before it joined');
    await produce(topic.name, 5, 10);
    await new Promise((r) => setTimeout(r, 3000));
    expect([handled, consumer.health().state]).toEqual([0, 'stopped']);
  });

  it('seek moves a partition back: a seek during a batch wins over its end, and the messages after the target come again in order', async () => {
    const topic = await freshTopic('seam-seek', 2);
    await produce(topic.name, 0, 10, 0);
    await produce(topic.name, 0, 5, 1);
    const handled: string[] = [];
    const stale: boolean[] = [];
    let seekDuring: TopicConsumer | undefined;
    const consumer = startTopicConsumer({
      kafka,
      name: 'seek',
      topic: topic.name,
      groupId: uniqueName('seam-seek-group'),
      fromBeginning: true,
      lagRefreshMs: 0,
      logger: silent(),
      eachBatch: async (batch) => {
        handled.push(...batch.messages.map((m) => `${batch.partition}:${m.offset}`));
        // The first time partition 0's end is handled, seek it back from inside the batch.
        if (seekDuring !== undefined && batch.partition === 0 && batch.messages.at(-1)?.offset === '9') {
          seekDuring.seek(0, 7n);
          seekDuring = undefined;
          stale.push(batch.isStale());
        }
      },
    });
    running.push(consumer);
    seekDuring = consumer;
    await consumer.ready;
    await until('both partitions read, then partition 0 again from 7', () => (consumer.positions().get(0) === 10n && handled.filter((h) => h === '0:7').length === 2 && consumer.positions().get(1) === 5n ? true : undefined));
    expect(stale).toEqual([true]);
    const p0 = handled.filter((h) => h.startsWith('0:'));
    expect(p0).toEqual([...Array.from({ length: 10 }, (_, i) => `0:${i}`), '0:7', '0:8', '0:9']);
    // Seeking again from outside a batch, once everything is read: the messages come again.
    consumer.seek(1, 2n);
    await until('partition 1 again from 2', () => (handled.filter((h) => h === '1:4').length === 2 ? true : undefined));
    expect(handled.filter((h) => h.startsWith('1:'))).toEqual(['1:0', '1:1', '1:2', '1:3', '1:4', '1:2', '1:3', '1:4']);
    expect(consumer.positions().get(1)).toBe(5n);
    expect(() => consumer.seek(0, -1n)).toThrow(RangeError);
    await consumer.stop();
  });

  it('measures lag down to zero once caught up, and answers readiness without internals', async () => {
    const topic = await freshTopic('seam-lag');
    await produce(topic.name, 0, 25);
    const healths: ConsumerHealth[] = [];
    const lags: number[] = [];
    let consumed = 0;
    const consumer = startTopicConsumer({
      kafka,
      name: 'history',
      topic: topic.name,
      groupId: uniqueName('seam-lag-group'),
      fromBeginning: true,
      lagRefreshMs: 100,
      logger: silent(),
      observer: { state: (h) => healths.push(h), lag: (_p, lag) => lags.push(lag), consumed: (n) => (consumed += n) },
      eachBatch: async () => undefined,
    });
    running.push(consumer);
    expect(consumerNotReadyReason(consumer.health())).toBe('history consumer starting');
    await consumer.ready;
    await until('zero lag', () => (consumer.health().lag === 0 && consumed === 25 ? true : undefined));
    expect(lags.at(-1)).toBe(0);
    expect(consumerNotReadyReason(consumer.health())).toBeUndefined();
    const reconnecting = { ...consumer.health(), state: 'reconnecting' as const, lastError: 'KafkaJSConnectionError: connect ECONNREFUSED 10.1.2.3:9092' };
    expect(consumerNotReadyReason(reconnecting)).toBe('history consumer reconnecting to Kafka');
    await consumer.stop();
    expect(healths.map((h) => h.state)).toEqual(['starting', 'running', 'stopped']);
  });
});
