import { describe, expect, it } from 'vitest';
import { decodeEvent, fromDeadLetterMessage, type DeadLetter, type Kafka } from '@reco/stream';
import { uniqueName } from '@reco/stream/testing';
import { ADMIN_TOKEN, harnessApplier, startHarness, until, useFileHarness } from './testing/harness.js';
import { makeSnapshot } from './testing/tiny-backbone.js';
import { rankingMismatch } from '@reco/model/testing';

// The snapshot consumer carries the rollback route's record back to this replica.
const file = useFileHarness({ consumeSnapshots: true });

/** Reads a topic from the beginning with a fresh group until `count` messages arrived. */
async function readTopic(kafka: Kafka, topic: string, count: number): Promise<{ key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> }[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const seen: { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push({ key: message.key, value: message.value, headers: message.headers ?? {} }) });
  try {
    await until(() => (seen.length >= count ? true : undefined), 15_000, `${count} messages on ${topic}`);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

const click = (userId: string, itemId: string, extra: Record<string, unknown> = {}) => ({ userId, itemId, type: 'click', ts: Date.now(), ...extra });

describe('health and docs', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await file.h.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await file.h.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', reasons: [] });
  });

  it('/readyz is 503 with every reason when a check fails', async () => {
    const other = await startHarness(file.backbone, { readiness: [async () => 'snapshot consumer not yet caught up', async () => undefined, async () => 'Kafka unreachable'] });
    try {
      const res = await other.app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'not-ready', reasons: ['snapshot consumer not yet caught up', 'Kafka unreachable'] });
    } finally {
      await other.close();
    }
  });

  it('publishes an OpenAPI document at /docs/json with every route', async () => {
    const res = await file.h.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/recommendations', '/v1/events', '/v1/models', '/v1/models/{variant}/rollback', '/healthz', '/readyz']));
  });
});

describe('recommendation requests', () => {
  it('a 400 names the query field at fault', async () => {
    const res = await file.h.app.inject({ url: '/v1/recommendations?userId=u1&k=1000' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'RECO_ERR_VALIDATION', issues: [{ field: 'k' }] });
    const missing = await file.h.app.inject({ url: '/v1/recommendations?k=5' });
    expect(missing.json()).toMatchObject({ code: 'RECO_ERR_VALIDATION', issues: [{ field: 'userId', message: 'is required' }] });
    const unknown = await file.h.app.inject({ url: '/v1/recommendations?userId=u1&colour=red' });
    expect(unknown.json()).toMatchObject({ issues: [{ field: 'colour' }] });
  });

  it('a 400 names every body field at fault, array elements included', async () => {
    const res = await file.h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u1', k: 0, history: ['item-1', 7] } });
    expect(res.statusCode).toBe(400);
    const fields = res.json<{ issues: { field: string }[] }>().issues.map((i) => i.field).sort();
    expect(fields).toEqual(['history[1]', 'k']);
  });

  it('unknown users get the popularity fallback, marked as such', async () => {
    const res = await file.h.app.inject({ url: '/v1/recommendations?userId=nobody&k=5' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ userId: 'nobody', variant: 'frozen', version: 0, fallback: 'popularity', historyLength: 0, backboneId: file.backbone.checkpoint.backboneId });
  });

  it('an explicit history is scored by the model, and seen and excluded items are left out', async () => {
    const res = await file.h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u2', k: 60, history: ['item-3', 'item-4'], exclude: ['item-5'] } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ items: { itemId: string; score: number }[]; fallback?: string; historyLength: number }>();
    expect(body.fallback).toBeUndefined();
    expect(body.historyLength).toBe(2);
    const ids = body.items.map((i) => i.itemId);
    expect(ids).toHaveLength(57);
    expect(ids).not.toContain('item-3');
    expect(ids).not.toContain('item-5');
    expect(body.items.map((i) => i.score)).toEqual([...body.items.map((i) => i.score)].sort((a, b) => b - a));
    const withSeen = await file.h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u2', k: 60, history: ['item-3'], excludeSeen: false } });
    expect(withSeen.json<{ items: unknown[] }>().items).toHaveLength(60);
  });

  it('concurrent requests share backbone calls (micro-batching), a repeated history skips the engine (cache), and both are on /metrics', async () => {
    const metric = async (pattern: RegExp): Promise<number> => Number(pattern.exec((await file.h.app.inject({ url: '/metrics' })).body)?.[1] ?? 0);
    const callsBefore = await metric(/^reco_backbone_batch_rows_count (\d+)$/m);
    const rowsBefore = await metric(/^reco_backbone_batch_rows_sum (\d+)$/m);
    const histories = Array.from({ length: 12 }, (_, i) => [`item-${i + 2}`, `item-${(i * 7) % 40 + 2}`, 'item-1']);
    const ask = (history: string[]) => file.h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u-batch', variant: 'frozen', k: 5, history } });
    const answers = await Promise.all(histories.map(ask));
    expect(answers.map((r) => r.statusCode)).toEqual(histories.map(() => 200));
    const calls = (await metric(/^reco_backbone_batch_rows_count (\d+)$/m)) - callsBefore;
    const rows = (await metric(/^reco_backbone_batch_rows_sum (\d+)$/m)) - rowsBefore;
    expect(rows).toBe(12);
    expect(calls).toBeLessThan(12);

    const hitsBefore = await metric(/^reco_backbone_cache_lookups_total\{result="hit"\} (\d+)$/m);
    const again = await ask(histories[0] ?? []);
    expect(again.json()).toEqual(answers[0]?.json());
    expect(await metric(/^reco_backbone_cache_lookups_total\{result="hit"\} (\d+)$/m)).toBe(hitsBefore + 1);
    expect((await metric(/^reco_backbone_batch_rows_sum (\d+)$/m)) - rowsBefore).toBe(12);
    expect((await file.h.app.inject({ url: '/metrics' })).body).toMatch(/^reco_backbone_engine_info\{engine="onnx"\} 1$/m);
  });

  it('answers the same on the TF.js engine (JavaScript scoring) as on ONNX Runtime (native top-k), within float noise', async () => {
    const tfjs = await startHarness(file.backbone, { engine: { engine: 'tfjs' } });
    try {
      const body = { userId: 'u-engines', variant: 'frozen', k: 20, history: ['item-3', 'item-9', 'item-4'], exclude: ['item-5'] };
      const [onnx, js] = await Promise.all([file.h, tfjs].map(async (x) => (await x.app.inject({ method: 'POST', url: '/v1/recommendations', payload: body })).json<{ items: { itemId: string; score: number }[] }>()));
      expect(onnx?.items).toHaveLength(20);
      expect(rankingMismatch(js?.items ?? [], onnx?.items ?? [], 1e-4)).toBeUndefined();
      expect(js?.items.map((i) => i.itemId)).not.toContain('item-5');
      expect((await tfjs.app.inject({ url: '/metrics' })).body).toMatch(/^reco_backbone_engine_info\{engine="tfjs"\} 1$/m);
    } finally {
      await tfjs.close();
    }
  });

  it('an unknown explicit variant is a 404', async () => {
    const res = await file.h.app.inject({ url: '/v1/recommendations?userId=u1&variant=nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'RECO_ERR_UNKNOWN_VARIANT' });
  });

  it('an oversized body is a 413, and a non-JSON body a 400', async () => {
    const history = Array.from({ length: 1000 }, (_, i) => `item-${i % 60}-${'x'.repeat(80)}`);
    const res = await file.h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u1', history } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'RECO_ERR_BODY_TOO_LARGE' });
    const broken = await file.h.app.inject({ method: 'POST', url: '/v1/recommendations', headers: { 'content-type': 'application/json' }, payload: '{"userId":' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ code: 'RECO_ERR_INVALID_JSON' });
    const text = await file.h.app.inject({ method: 'POST', url: '/v1/recommendations', headers: { 'content-type': 'text/plain' }, payload: 'userId=u1' });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ code: 'RECO_ERR_UNSUPPORTED_MEDIA_TYPE' });
    const route = await file.h.app.inject({ url: '/v2/nothing' });
    expect(route.statusCode).toBe(404);
    expect(route.json()).toMatchObject({ code: 'RECO_ERR_NOT_FOUND' });
  });
});

describe('event ingest', () => {
  it('produces a batch to the events topic keyed by userId, and answers 202', async () => {
    const events = [click('ev-user-1', 'item-1'), click('ev-user-2', 'item-2', { requestId: 'r-1' }), { ...click('ev-user-1', 'item-3'), type: 'purchase' }];
    const res = await file.h.app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 3 });
    const single = await file.h.app.inject({ method: 'POST', url: '/v1/events', payload: click('ev-user-3', 'item-4') });
    expect(single.json()).toEqual({ accepted: 1 });
    const read = await readTopic(file.h.kafka, file.h.topics.events.name, 4);
    const decoded = read.map((m) => ({ key: m.key?.toString(), event: decodeEvent(m.value) }));
    expect(decoded.every((d) => d.event.ok)).toBe(true);
    const byItem = new Map(decoded.map((d) => [d.event.ok ? d.event.value.itemId : '', d]));
    expect(byItem.get('item-2')).toMatchObject({ key: 'ev-user-2', event: { value: { requestId: 'r-1' } } });
    expect(byItem.get('item-4')?.key).toBe('ev-user-3');
  });

  it('a mixed batch: 400 naming each bad field by index, valid ones produced, invalid ones dead-lettered with reasons', async () => {
    const h2 = await startHarness(file.backbone);
    try {
      const events = [click('mix-1', 'item-1'), { userId: 'mix-2', itemId: 'item-2', type: 'like', ts: Date.now() }, click('mix-3', 'item-3'), { userId: 7, itemId: 'item-4', type: 'click', ts: 1_700_000_000 }, 'hello'];
      const res = await h2.app.inject({ method: 'POST', url: '/v1/events', payload: { events } });
      expect(res.statusCode).toBe(400);
      const body = res.json<{ code: string; accepted: number; rejected: number; issues: { field: string; index: number }[] }>();
      expect(body).toMatchObject({ code: 'RECO_ERR_INVALID_EVENTS', accepted: 2, rejected: 3 });
      expect(body.issues.map((i) => i.field)).toEqual(['events[1].type', 'events[3].userId', 'events[3].ts', 'events[4]']);
      expect(body.issues.map((i) => i.index)).toEqual([1, 3, 3, 4]);

      const produced = await readTopic(h2.kafka, h2.topics.events.name, 2);
      expect(produced.map((m) => m.key?.toString()).sort()).toEqual(['mix-1', 'mix-3']);
      const letters = (await readTopic(h2.kafka, h2.topics.deadLetter.name, 3)).map((m) => fromDeadLetterMessage({ key: m.key, value: m.value, headers: m.headers }) as DeadLetter);
      const byIndex = letters.sort((a, b) => a.raw!.toString().localeCompare(b.raw!.toString()));
      expect(letters).toHaveLength(3);
      const reasons = byIndex.map((l) => l.reason).join(' | ');
      expect(reasons).toMatch(/type unknown event type "like"/);
      expect(reasons).toMatch(/userId must be a string/);
      expect(reasons).toMatch(/must be a JSON object/);
      expect(letters.every((l) => l.source.kind === 'http' && l.source.route === '/v1/events')).toBe(true);
      expect(letters.find((l) => l.raw?.toString() === '"hello"')).toBeDefined();

      const metrics = (await h2.app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/^reco_events_accepted_total 2$/m);
      expect(metrics).toMatch(/^reco_events_rejected_total 3$/m);
    } finally {
      await h2.close();
    }
  });

  it('answers 503 when Kafka does not acknowledge, and accepts nothing', async () => {
    const h3 = await startHarness(file.backbone);
    try {
      await h3.producer.disconnect();
      const res = await h3.app.inject({ method: 'POST', url: '/v1/events', payload: click('u-503', 'item-1') });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'RECO_ERR_KAFKA_UNAVAILABLE' });
      expect((await h3.app.inject({ url: '/metrics' })).body).toMatch(/^reco_events_accepted_total 0$/m);
    } finally {
      await h3.close();
    }
  });

  it('rejects a batch over the size limit with 413 and an empty batch with 400', async () => {
    const big = Array.from({ length: 400 }, (_, i) => click(`user-${i}-${'y'.repeat(100)}`, 'item-1'));
    expect((await file.h.app.inject({ method: 'POST', url: '/v1/events', payload: { events: big } })).statusCode).toBe(413);
    const empty = await file.h.app.inject({ method: 'POST', url: '/v1/events', payload: { events: [] } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ issues: [{ field: 'events' }] });
  });
});

describe('models and rollback', () => {
  it('lists live variants, and rollback needs the bearer token: 401, 403, 404, then 200 (a record through the topic), then 409', async () => {
    const applier = await harnessApplier(file.h, file.backbone);
    const v1 = await makeSnapshot(file.backbone, { version: 1 });
    expect(applier.apply(v1)).toMatchObject({ applied: true });
    expect(applier.apply(await makeSnapshot(file.backbone, { version: 2 }))).toMatchObject({ applied: true });

    const models = (await file.h.app.inject({ url: '/v1/models' })).json<{ variants: { variant: string; version: number; previousVersion: number | null; offsets: object; examplesTrained: number }[] }>();
    expect(models.variants.map((v) => v.variant)).toEqual(['frozen', 'ladder']);
    expect(models.variants[1]).toMatchObject({ method: 'ladder', version: 2, previousVersion: 1, offsets: { '0': '20' }, examplesTrained: 20, backboneId: file.backbone.checkpoint.backboneId });
    expect(models.variants[0]).toMatchObject({ version: 0, publishedAt: null, previousVersion: null });

    const url = '/v1/models/ladder/rollback';
    expect((await file.h.app.inject({ method: 'POST', url })).statusCode).toBe(401);
    expect((await file.h.app.inject({ method: 'POST', url, headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
    const forbidden = await file.h.app.inject({ method: 'POST', url, headers: { authorization: 'Bearer wrong' } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ code: 'RECO_ERR_FORBIDDEN' });
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await file.h.app.inject({ method: 'POST', url: '/v1/models/nope/rollback', headers: auth })).statusCode).toBe(404);
    // The frozen baseline never had a previous version.
    expect((await file.h.app.inject({ method: 'POST', url: '/v1/models/frozen/rollback', headers: auth })).json()).toMatchObject({ code: 'RECO_ERR_NO_PREVIOUS_VERSION' });
    // v2 is withdrawn by a new record, v3, that carries v1's parameters and position again.
    const ok = await file.h.app.inject({ method: 'POST', url, headers: auth });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ variant: 'ladder', version: 3, rolledBackFrom: 2, restores: 1 });
    const answer = await file.h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u', variant: 'ladder', history: ['item-1'] } });
    expect(answer.json()).toMatchObject({ variant: 'ladder', version: 3 });
    const after = (await file.h.app.inject({ url: '/v1/models' })).json<{ variants: { variant: string; previousVersion: number | null; offsets: object; examplesTrained: number }[] }>();
    expect(after.variants[1]).toMatchObject({ version: 3, previousVersion: null, offsets: v1.meta.offsets, examplesTrained: v1.meta.examplesTrained });
    const again = await file.h.app.inject({ method: 'POST', url, headers: auth });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'RECO_ERR_NO_PREVIOUS_VERSION' });
    // The rolled-back version is never re-applied, nor the record's; the next newer one is.
    expect(applier.apply(await makeSnapshot(file.backbone, { version: 3 }))).toMatchObject({ applied: false, reason: 'stale_version' });
    expect(applier.apply(await makeSnapshot(file.backbone, { version: 4 }))).toMatchObject({ applied: true, previousVersion: 3 });
    const metrics = (await file.h.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^reco_swaps_total\{variant="ladder",kind="rollback"\} 1$/m);
    expect(metrics).toMatch(/^reco_live_version\{variant="ladder"\} 4$/m);
    expect(metrics).toMatch(/^reco_http_request_duration_seconds_count\{route="\/v1\/models\/:variant\/rollback",method="POST",status="401"\} 2$/m);
  });
});
