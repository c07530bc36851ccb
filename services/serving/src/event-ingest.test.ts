import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, decodeEvent, fromDeadLetterMessage, type DeadLetter, type Kafka } from '@reco/stream';
import { testKafkaBrokers, uniqueName } from '@reco/stream/testing';
import { EventIngest } from './event-ingest.js';
import { startHarness, until, useFileHarness, type Harness } from './testing/harness.js';

// Finding A of issue 10 and its neighbours, against the real broker of this run: whatever an
// event looks like, POST /v1/events answers 4xx, produces the valid events of its batch and
// dead-letters the rest with the client's own JSON.

const file = useFileHarness();

type Read = { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> };

/** Reads a topic from the beginning with a fresh group until `count` messages arrived. */
async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 20_000): Promise<Read[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100, maxBytes: 16 * 1024 * 1024 });
  const seen: Read[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push({ key: message.key, value: message.value, headers: message.headers ?? {} }) });
  try {
    await until(() => (seen.length >= count ? true : undefined), timeoutMs, () => `${count} messages on ${topic} (${seen.length} so far)`);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

const letterOf = (m: Read) => fromDeadLetterMessage({ key: m.key, value: m.value, headers: m.headers }) as DeadLetter & { truncatedFrom?: number };
const click = (userId: string, itemId = 'item-1') => ({ userId, itemId, type: 'click', ts: Date.now() });
const post = (harness: Harness, payload: string) => harness.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload });

describe('event ingest under hostile input', () => {
  it('a batch whose second element nests 4,100 levels deep: the first is produced, the second dead-lettered as sent, 400 names it', async () => {
    const own = await startHarness(file.backbone);
    try {
      const deep = `${'['.repeat(4100)}${']'.repeat(4100)}`;
      const res = await post(own, `{"events":[${JSON.stringify(click('deep-batch-1'))},${deep}]}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'RECO_ERR_INVALID_EVENTS', accepted: 1, rejected: 1, issues: [{ field: 'events[1]', index: 1 }] });

      const [produced] = await readTopic(own.kafka, own.topics.events.name, 1);
      expect(produced?.key?.toString()).toBe('deep-batch-1');
      expect(decodeEvent(produced?.value ?? null)).toMatchObject({ ok: true, value: { userId: 'deep-batch-1' } });
      const [letter] = (await readTopic(own.kafka, own.topics.deadLetter.name, 1)).map(letterOf);
      expect(letter?.raw?.toString()).toBe(deep);
      expect(letter?.reason).toMatch(/must be a JSON object, got an array/);
      expect(letter?.key).toBeNull();
    } finally {
      await own.close();
    }
  });

  it('a single event whose userId is a 20,000-deep array is a 400 naming userId, dead-lettered whole', async () => {
    const own = await startHarness(file.backbone);
    try {
      const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
      const text = `{"userId":${deep},"itemId":"item-1","type":"click","ts":${Date.now()}}`;
      const res = await post(own, text);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'RECO_ERR_INVALID_EVENTS', accepted: 0, rejected: 1, issues: [{ field: 'userId', message: 'must be a string, got an array' }] });
      const [letter] = (await readTopic(own.kafka, own.topics.deadLetter.name, 1)).map(letterOf);
      expect(letter?.raw?.toString()).toBe(text);
    } finally {
      await own.close();
    }
  });

  it('ids with NUL, only zero-width characters or over 128 characters are refused by field; their valid neighbours are produced', async () => {
    const own = await startHarness(file.backbone);
    try {
      const events = [click('ids-ok-1'), click('\u0000'), click('ids-ok-2', '\u200B\uFEFF'), click('x'.repeat(20_000)), { ...click('ids-ok-3'), requestId: 'r\u0000' }, click('ids-ok-4')];
      const res = await own.app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
      expect(res.statusCode).toBe(400);
      const body = res.json<{ accepted: number; rejected: number; issues: { field: string; message: string }[] }>();
      expect(body).toMatchObject({ accepted: 2, rejected: 4 });
      expect(body.issues.map((i) => i.field)).toEqual(['events[1].userId', 'events[2].itemId', 'events[3].userId', 'events[4].requestId']);
      expect(body.issues[0]?.message).toMatch(/control character \(U\+0000/);
      expect(body.issues[1]?.message).toMatch(/invisible characters/);
      expect(body.issues[2]?.message).toBe('is 20000 characters; at most 128');
      const produced = await readTopic(own.kafka, own.topics.events.name, 2);
      expect(produced.map((m) => m.key?.toString()).sort()).toEqual(['ids-ok-1', 'ids-ok-4']);
      const letters = (await readTopic(own.kafka, own.topics.deadLetter.name, 4)).map(letterOf);
      // The over-long id is not used as the dead letter's key; the short invalid ones are.
      expect(letters.map((l) => l.key?.toString() ?? null).sort()).toEqual(['\u0000', 'ids-ok-2', 'ids-ok-3', null].sort());
    } finally {
      await own.close();
    }
  });

  it('ingest() returns for values JSON.parse never makes (cycles, bigints, throwing getters, revoked proxies) and still produces the valid ones', async () => {
    const own = await startHarness(file.backbone);
    const failures: unknown[] = [];
    try {
      const ingest = new EventIngest({ producer: own.producer, events: own.topics.events, deadLetter: own.topics.deadLetter, onDeadLetterFailure: (e) => failures.push(e) });
      const cycle: Record<string, unknown> = { userId: 'cyclic' };
      cycle.self = cycle;
      const getter = { itemId: 'i', get userId(): string { throw new Error('getter exploded'); } };
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      const items = [click('exotic-ok-1'), cycle, { ...click('big'), ts: 10n }, getter, proxy, click('exotic-ok-2')];
      const result = await ingest.ingest(items, { batch: true, route: 'test', requestId: 'r-exotic' });
      expect(result).toMatchObject({ accepted: 2, rejected: 4 });
      expect(result.issues.find((i) => i.index === 3)?.message).toMatch(/could not be read: getter exploded/);
      const produced = await readTopic(own.kafka, own.topics.events.name, 2);
      expect(produced.map((m) => m.key?.toString()).sort()).toEqual(['exotic-ok-1', 'exotic-ok-2']);
      const letters = (await readTopic(own.kafka, own.topics.deadLetter.name, 4)).map(letterOf);
      expect(letters.find((l) => l.key?.toString() === 'cyclic')?.reason).toMatch(/the value kept here is the first \d+ characters of its JSON/);
      expect(failures).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('dead letters larger than the topic allows are cut to fit and marked, and a batch of them larger than one record batch all land', async () => {
    // A body limit above the dead-letter topic's 1 MiB, as RECO_BODY_LIMIT_BYTES allows.
    const own = await startHarness(file.backbone, { bodyLimitBytes: 8 * 1024 * 1024 });
    try {
      const huge = { ...click('huge-letter'), note: 'n'.repeat(1_500_000) };
      const one = await own.app.inject({ method: 'POST', url: '/v1/events', payload: huge });
      expect(one.statusCode).toBe(400);
      const [letter] = (await readTopic(own.kafka, own.topics.deadLetter.name, 1)).map(letterOf);
      expect(letter?.raw?.length).toBeLessThanOrEqual(own.topics.deadLetter.maxMessageBytes);
      expect(letter?.raw?.toString().startsWith('{"userId":"huge-letter"')).toBe(true);
      expect(letter?.truncatedFrom).toBeGreaterThan(letter?.raw?.length ?? Infinity);
      expect(letter?.reason).toMatch(/note is not a field of the event schema/);

      // 300 invalid events of 6 KB each: about 1.8 MB of dead letters, more than one record batch may hold.
      const many = Array.from({ length: 300 }, (_, i) => ({ ...click(`many-${i}`), type: 'like', pad: 'p'.repeat(6000) }));
      const batch = await own.app.inject({ method: 'POST', url: '/v1/events', payload: { events: many } });
      expect(batch.json()).toMatchObject({ code: 'RECO_ERR_INVALID_EVENTS', accepted: 0, rejected: 300 });
      const all = await readTopic(own.kafka, own.topics.deadLetter.name, 301, 30_000);
      expect(new Set(all.map((m) => m.key?.toString())).size).toBe(301);
      expect(all.every((m) => m.headers[DLQ_HEADERS.reason] !== undefined)).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('a 503 says nothing about the broker: no address, no client internals', async () => {
    const own = await startHarness(file.backbone);
    try {
      await own.producer.disconnect();
      const res = await own.app.inject({ method: 'POST', url: '/v1/events', payload: click('u-503') });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ code: 'RECO_ERR_KAFKA_UNAVAILABLE', message: 'Kafka did not acknowledge 1 event(s); none of them was accepted, retry' });
      for (const broker of testKafkaBrokers()) {
        expect(res.body).not.toContain(broker);
        expect(res.body).not.toContain(broker.split(':')[1] ?? broker);
      }
    } finally {
      await own.close();
    }
  });
});
