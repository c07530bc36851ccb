import { ConfigResourceTypes, type Admin, type Kafka, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromDeadLetterMessage } from './dead-letter.js';
import { ensureTopics } from './ensure-topics.js';
import { encodeEvent, type RecoEvent } from './event-contract.js';
import { startEventConsumer, type ConsumedEvent } from './event-consumer.js';
import { StreamError } from './errors.js';
import { createKafkaClient } from './kafka-client.js';
import { readKafkaConfig } from './kafka-config.js';
import { silentLogger } from './logger.js';
import { sendWithinLimit } from './send-within-limit.js';
import { testKafkaBrokers, uniqueName } from './testing/index.js';
import { topicSpecs, type TopicSpec } from './topics.js';

// Everything here runs against the real broker of this test run (see vitest.kafka-setup.ts), with
// topic and group names unique to each test.
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: 'stream-it' }), silentLogger);
  admin = kafka.admin();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await Promise.all([admin.connect(), producer.connect()]);
});

afterAll(async () => {
  await Promise.all([admin?.disconnect(), producer?.disconnect()]);
});

async function until<T>(check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads a whole topic from the beginning with a fresh group until `count` messages arrived. */
async function readAll(topic: string, count: number): Promise<Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, unknown> }>> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const seen: Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, unknown> }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push({ key: message.key, value: message.value, headers: message.headers ?? {} }) });
  try {
    await until(() => (seen.length >= count ? true : undefined));
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

describe('topics', () => {
  it('ensureTopics creates the catalogue once and a second run changes nothing', async () => {
    const specs = topicSpecs({ prefix: `${uniqueName('topics')}.` });
    const all = [specs.events, specs.deadLetter, specs.adapters];
    const first = await ensureTopics(admin, all);
    expect(first.created.sort()).toEqual(all.map((s) => s.name).sort());
    const second = await ensureTopics(admin, all);
    expect(second).toEqual({ created: [], updated: [], unchanged: all.map((s) => s.name), warnings: [] });

    const metadata = await admin.fetchTopicMetadata({ topics: [specs.events.name] });
    expect(metadata.topics[0]?.partitions).toHaveLength(specs.events.numPartitions);
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: specs.adapters.name }] });
    const configs = new Map(described.resources[0]?.configEntries.map((e) => [e.configName, e.configValue]));
    expect(configs.get('cleanup.policy')).toBe('compact');
    expect(configs.get('max.message.bytes')).toBe(String(specs.adapters.maxMessageBytes));
  });

  it('services creating the same topics at the same moment all succeed, with no error-level line', async () => {
    const specs = topicSpecs({ prefix: `${uniqueName('race')}.` });
    const all = [specs.events, specs.deadLetter, specs.adapters];
    const lines: Array<{ level: string; msg: string | undefined }> = [];
    const at = (level: string) => (_fields: object, msg?: string) => void lines.push({ level, msg });
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const admins = Array.from({ length: 4 }, () => createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: 'race' }), logger).admin());
    await Promise.all(admins.map((a) => a.connect()));
    try {
      const results = await Promise.all(admins.map((a) => ensureTopics(a, all)));
      for (const r of results) expect([...r.created, ...r.unchanged].sort()).toEqual(all.map((s) => s.name).sort());
      // The losers' CreateTopics answer (TOPIC_ALREADY_EXISTS) is what KafkaJS logs at error
      // level; asking for an existing topic produces that same line every time.
      await expect(admins[0]?.createTopics({ topics: [{ topic: specs.events.name, numPartitions: 1 }] })).resolves.toBe(false);
      expect(lines.some((l) => l.level === 'debug' && l.msg?.startsWith('Response CreateTopics'))).toBe(true);
      expect(lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    } finally {
      await Promise.all(admins.map((a) => a.disconnect()));
    }
  });

  it('ensureTopics repairs a topic whose configs drifted', async () => {
    const specs = topicSpecs({ prefix: `${uniqueName('drift')}.` });
    await ensureTopics(admin, [specs.adapters]);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: specs.adapters.name, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }] });
    expect(await ensureTopics(admin, [specs.adapters])).toEqual({ created: [], updated: [specs.adapters.name], unchanged: [], warnings: [] });
    expect(await ensureTopics(admin, [specs.adapters])).toEqual({ created: [], updated: [], unchanged: [specs.adapters.name], warnings: [] });
    // A partition count that differs is reported, not changed.
    const wider = await ensureTopics(admin, [{ ...specs.adapters, numPartitions: 3 }]);
    expect(wider.warnings).toEqual([`${specs.adapters.name} has 1 partitions; the catalogue asks for 3 (left as it is)`]);
    const metadata = await admin.fetchTopicMetadata({ topics: [specs.adapters.name] });
    expect(metadata.topics[0]?.partitions).toHaveLength(1);
  });
});

describe('events through a consumer group', () => {
  it('round-trips events keyed by user, in per-user order, and dead-letters only the invalid ones', async () => {
    const specs = topicSpecs({ prefix: `${uniqueName('events')}.`, eventPartitions: 3 });
    await ensureTopics(admin, [specs.events, specs.deadLetter]);

    const t0 = Date.UTC(2026, 10, 1);
    const good: RecoEvent[] = Array.from({ length: 60 }, (_, i) => ({ userId: `u${i % 7}`, itemId: `i${i}`, type: 'click', ts: t0 + i }));
    const bad: Array<{ raw: Buffer; expect: string }> = [
      { raw: Buffer.from('this is not json'), expect: 'body is not JSON' },
      { raw: Buffer.from(JSON.stringify({ itemId: 'i1', type: 'click', ts: t0 })), expect: 'userId is required' },
      { raw: Buffer.from(JSON.stringify({ userId: 'u1', itemId: 3, type: 'click', ts: t0 })), expect: 'itemId must be a string' },
      { raw: Buffer.from(JSON.stringify({ userId: 'u1', itemId: 'i1', type: 'hover', ts: t0 })), expect: 'unknown event type "hover"' },
      { raw: Buffer.from(JSON.stringify({ userId: 'u1', itemId: 'i1', type: 'click', ts: 1_764_000_000 })), expect: 'looks like seconds' },
      { raw: Buffer.from(JSON.stringify({ userId: 'u1', itemId: 'i1', type: 'click', ts: 'now' })), expect: 'ts must be a number' },
      { raw: Buffer.from(JSON.stringify({ userId: '', itemId: 'i1', type: 'click', ts: t0 })), expect: 'userId must not be empty' },
      { raw: Buffer.from(JSON.stringify({ userId: 'u'.repeat(200), itemId: 'i1', type: 'click', ts: t0 })), expect: 'at most 128' },
    ];
    const messages = [
      ...good.map((e) => ({ key: e.userId, value: encodeEvent(e) })),
      ...bad.map((b, i) => ({ key: `bad${i}`, value: b.raw })),
    ];
    await sendWithinLimit(producer, specs.events, messages);

    const received: ConsumedEvent[] = [];
    const consumer = await startEventConsumer({
      kafka,
      groupId: uniqueName('group'),
      events: specs.events,
      deadLetter: { topic: specs.deadLetter, producer },
      logger: silentLogger,
      fromBeginning: true,
      onEvents: async (batch) => void received.push(...batch.events),
    });
    try {
      await until(() => (received.length >= good.length ? true : undefined), 30_000);
    } finally {
      await consumer.stop();
    }
    expect(received.map((r) => r.event).sort((a, b) => a.ts - b.ts)).toEqual(good);
    for (let u = 0; u < 7; u += 1) {
      const mine = received.filter((r) => r.event.userId === `u${u}`);
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
      expect(mine.map((r) => r.event.ts)).toEqual([...mine.map((r) => r.event.ts)].sort((a, b) => a - b));
    }

    const letters = (await readAll(specs.deadLetter.name, bad.length)).map((m) => fromDeadLetterMessage({ key: m.key, value: m.value, headers: m.headers as never }));
    expect(letters).toHaveLength(bad.length);
    for (const [i, b] of bad.entries()) {
      const letter = letters.find((l) => l.key?.toString() === `bad${i}`);
      expect(letter, `dead letter for case ${i}`).toBeDefined();
      expect(letter?.raw?.equals(b.raw)).toBe(true);
      expect(letter?.reason).toContain(b.expect);
      expect(letter?.source).toMatchObject({ kind: 'topic', topic: specs.events.name });
      expect(letter?.failedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    expect(letters.some((l) => l.key?.toString().startsWith('u'))).toBe(false);
  });
});

describe('message size limits', () => {
  it('refuses a record over the topic limit before sending, naming the limit', async () => {
    const specs = topicSpecs({ prefix: `${uniqueName('size')}.` });
    await ensureTopics(admin, [specs.adapters]);
    const tooBig = Buffer.alloc(specs.adapters.maxMessageBytes + 1);
    const attempt = sendWithinLimit(producer, specs.adapters, [{ key: 'ladder', value: tooBig }]);
    await expect(attempt).rejects.toBeInstanceOf(StreamError);
    await expect(attempt).rejects.toThrow(`max.message.bytes=${specs.adapters.maxMessageBytes}`);
    // Just under the limit goes through: the limit is the real one, not a guess on the safe side.
    await expect(sendWithinLimit(producer, specs.adapters, [{ key: 'ladder', value: Buffer.alloc(specs.adapters.maxMessageBytes - 200) }])).resolves.toHaveLength(1);
  });

  it("turns the broker's own MESSAGE_TOO_LARGE into the same clear error", async () => {
    const name = `${uniqueName('small')}.limited`;
    const small: TopicSpec = { name, numPartitions: 1, replicationFactor: 1, maxMessageBytes: 2048, configs: { 'max.message.bytes': '2048' } };
    await ensureTopics(admin, [small]);
    const attempt = sendWithinLimit(producer, small, [{ key: 'k', value: Buffer.alloc(4096) }], { checkBeforeSending: false });
    await expect(attempt).rejects.toMatchObject({ code: 'RECO_ERR_MESSAGE_TOO_LARGE' });
    await expect(attempt).rejects.toThrow('catalogue limit 2048');
  });
});
