import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '@reco/stream/testing';
import { SERVING_ERRORS, type ServingErrorCode } from './errors.js';
import type { ServingRuntime } from './runtime.js';
import { until } from './testing/harness.js';
import { catalogueBackbone, REPLICA_ADMIN_TOKEN, startReplica } from './testing/replica.js';
import { tinyBackbone } from './testing/tiny-backbone.js';

// Issue 11: the item catalogue (titles, categories, availability) shared by every replica through
// reco.items, and answers that are never empty. Two replicas as main.ts runs them, on one set of
// topics of the real broker.

interface Answer {
  fallback?: string;
  historyLength: number;
  items: { itemId: string; score: number; title?: string; categories?: string[] }[];
}

let catalogue: Awaited<ReturnType<typeof catalogueBackbone>>;
let a: ServingRuntime;
let b: ServingRuntime;

beforeAll(async () => {
  catalogue = await catalogueBackbone();
  const topicPrefix = `${uniqueName('items')}.`;
  [a, b] = await Promise.all([startReplica({ backboneDir: catalogue.dir, topicPrefix }), startReplica({ backboneDir: catalogue.dir, topicPrefix })]);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
});

const admin = { authorization: `Bearer ${REPLICA_ADMIN_TOKEN}` };

async function ask(app: FastifyInstance, query: string): Promise<Answer> {
  const res = await app.inject({ url: `/v1/recommendations?${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Answer>();
}

async function askWithHistory(app: FastifyInstance, body: Record<string, unknown>): Promise<Answer> {
  const res = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'with-history', ...body } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Answer>();
}

async function put(app: FastifyInstance, itemId: string, body: unknown, headers: Record<string, string> = admin) {
  return app.inject({ method: 'PUT', url: `/v1/items/${encodeURIComponent(itemId)}`, headers, payload: body as Record<string, unknown> });
}

const ids = (answer: Answer): string[] => answer.items.map((i) => i.itemId);

/** encodeURIComponent throws on an unpaired surrogate; such a client sends its CESU-8 bytes instead. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

describe('answers are never empty', () => {
  it('a brand-new user gets 10 items for k=10 before any click, in pretraining popularity order, with titles', async () => {
    const answer = await ask(a.app, 'userId=brand-new&k=10');
    expect(answer.fallback).toBe('popularity');
    expect(ids(answer)).toEqual(Array.from({ length: 10 }, (_, i) => `item-${59 - i}`));
    // item-59 holds 59 of the pretraining clicks: its share of the 1000 clicks the prior is worth.
    const total = [...catalogue.counts.values()].reduce((x, y) => x + y, 0);
    expect(answer.items[0]?.score).toBeCloseTo((1000 * 59) / total, 6);
    const withTitles = await ask(a.app, 'userId=brand-new&k=60');
    expect(withTitles.items).toHaveLength(60);
    // Items without pretraining clicks close the list in catalogue order.
    expect(ids(withTitles).slice(50)).toEqual(Array.from({ length: 10 }, (_, i) => `item-${i}`));
    const item = (id: string) => withTitles.items.find((i) => i.itemId === id);
    expect(item('item-48')).toEqual({ itemId: 'item-48', score: item('item-48')?.score, title: 'Title 48 (2038)', categories: ['Comedy', 'Drama'] });
    expect(Object.keys(item('item-55') ?? {})).toEqual(['itemId', 'score']);
  });

  it('after one click: that user gets 3 for k=3 from the model, and another new user 3 from the fallback', async () => {
    const click = await a.app.inject({ method: 'POST', url: '/v1/events', payload: { userId: 'one-click', itemId: 'item-20', type: 'click', ts: Date.now() } });
    expect(click.statusCode).toBe(202);
    const mine = await until(async () => {
      const answer = await ask(a.app, 'userId=one-click&k=3');
      return answer.historyLength === 1 ? answer : undefined;
    }, 15_000, 'the click in the history');
    expect(mine.fallback).toBeUndefined();
    expect(mine.items).toHaveLength(3);
    expect(ids(mine)).not.toContain('item-20');
    const other = await ask(a.app, 'userId=someone-else&k=3');
    expect(other).toMatchObject({ fallback: 'popularity' });
    expect(other.items).toHaveLength(3);
  });

  it('an older checkpoint without counts still answers k items, in catalogue order', async () => {
    const tiny = await tinyBackbone(11);
    tiny.checkpoint.backbone.dispose();
    const old = await startReplica({ backboneDir: tiny.dir, topicPrefix: `${uniqueName('no-counts')}.` });
    try {
      const answer = await ask(old.app, 'userId=brand-new&k=10');
      expect(ids(answer)).toEqual(Array.from({ length: 10 }, (_, i) => `item-${i}`));
      expect(answer.items.every((i) => i.score === 0 && i.title === undefined)).toBe(true);
    } finally {
      await old.stop();
    }
  }, 90_000);
});

describe('the item catalogue', () => {
  it('GET /v1/items/:itemId: what the checkpoint says, 404 for an item nobody described, 400 naming a bad id', async () => {
    const one = await a.app.inject({ url: '/v1/items/item-3' });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual({ itemId: 'item-3', title: 'Title 3 (1993)', categories: ['Comedy'], available: true, updatedAt: null });
    expect((await a.app.inject({ url: '/v1/items/item-57' })).json()).toMatchObject({ title: null, categories: [], available: true });
    const unknown = await a.app.inject({ url: '/v1/items/nobody-knows' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'RECO_ERR_UNKNOWN_ITEM' });
    const bad = await a.app.inject({ url: '/v1/items/%E2%80%8B' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'RECO_ERR_VALIDATION', issues: [{ field: 'itemId' }] });
    // Every id the API accepts (128 characters) is addressable in a path.
    expect((await a.app.inject({ url: `/v1/items/${'x'.repeat(128)}` })).statusCode).toBe(404);
    expect((await a.app.inject({ url: `/v1/items/${'x'.repeat(129)}` })).statusCode).toBe(414);
  });

  it('PUT needs the admin token: 401 without one, 403 with a wrong one, and nothing changes', async () => {
    const none = await put(a.app, 'item-4', { title: 'Hijacked' }, {});
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'RECO_ERR_UNAUTHORIZED' });
    const wrong = await put(a.app, 'item-4', { title: 'Hijacked' }, { authorization: 'Bearer wrong' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'RECO_ERR_FORBIDDEN' });
    expect((await a.app.inject({ url: '/v1/items/item-4' })).json()).toMatchObject({ title: 'Title 4 (1994)' });
  });

  it('a PUT on one replica is served by the other through reco.items; fields left out keep their value', async () => {
    const res = await put(a.app, 'item-7', { title: 'Seven Samurai (1954)', categories: ['Action', 'Drama'] });
    expect(res.statusCode, res.body).toBe(200);
    const written = res.json<{ updatedAt: number }>();
    expect(written).toEqual({ itemId: 'item-7', title: 'Seven Samurai (1954)', categories: ['Action', 'Drama'], available: true, updatedAt: written.updatedAt });
    expect(Math.abs(written.updatedAt - Date.now())).toBeLessThan(60_000);
    // The writing replica answers with what it serves now; the other within about a second.
    expect((await a.app.inject({ url: '/v1/items/item-7' })).json()).toMatchObject({ title: 'Seven Samurai (1954)' });
    const seen = await until(async () => {
      const got = (await b.app.inject({ url: '/v1/items/item-7' })).json<{ title: string | null }>();
      return got.title === 'Seven Samurai (1954)' ? got : undefined;
    }, 15_000, 'replica b to see the write');
    expect(seen).toMatchObject({ categories: ['Action', 'Drama'], available: true });
    // A second write names only the title: categories stay, on both replicas.
    expect((await put(b.app, 'item-7', { title: 'Shichinin no samurai (1954)' })).json()).toMatchObject({ title: 'Shichinin no samurai (1954)', categories: ['Action', 'Drama'] });
    await until(async () => ((await a.app.inject({ url: '/v1/items/item-7' })).json<{ title: string }>().title === 'Shichinin no samurai (1954)' ? true : undefined), 15_000, 'replica a to see the second write');
    const answer = await askWithHistory(a.app, { history: ['item-1'], k: 60, variant: 'frozen' });
    expect(answer.items.find((i) => i.itemId === 'item-7')).toMatchObject({ title: 'Shichinin no samurai (1954)', categories: ['Action', 'Drama'] });
  });

  it('concurrent writes of one item on one replica both stick', async () => {
    const [titled, hidden] = await Promise.all([put(a.app, 'item-11', { title: 'Eleven' }), put(a.app, 'item-11', { available: false })]);
    expect([titled.statusCode, hidden.statusCode]).toEqual([200, 200]);
    expect(hidden.json()).toMatchObject({ title: 'Eleven', available: false, categories: [] });
    await until(async () => {
      const got = (await b.app.inject({ url: '/v1/items/item-11' })).json<{ title: string | null; available: boolean }>();
      return got.title === 'Eleven' && !got.available ? true : undefined;
    }, 15_000, 'replica b to see both writes');
    expect((await put(b.app, 'item-11', { available: true })).json()).toMatchObject({ title: 'Eleven', available: true });
  });

  it('an item written through the API that the backbone does not know is recommendable, with its title, on both replicas', async () => {
    expect((await put(b.app, 'brand-new-product', { title: 'Brand new', categories: ['Gadgets'] })).statusCode).toBe(200);
    for (const app of [a.app, b.app]) {
      const answer = await until(async () => {
        const got = await ask(app, 'userId=gadget-fan&category=gadgets&k=5');
        return got.items.length > 0 ? got : undefined;
      }, 15_000, 'the new item in a filtered answer');
      expect(answer.items).toEqual([{ itemId: 'brand-new-product', score: 0, title: 'Brand new', categories: ['Gadgets'] }]);
      // The model cannot rank it, but an answer it leaves short is completed from the catalogue.
      const model = await askWithHistory(app, { history: ['item-2'], category: 'Gadgets', k: 5 });
      expect(model.fallback).toBeUndefined();
      expect(ids(model)).toEqual(['brand-new-product']);
    }
  });

  it('an unavailable item is never recommended, by the model or by the fallback, on any replica; available again, it is back', async () => {
    // item-59 is what the fallback ranks first, and the model ranks every other item for some history.
    const res = await put(a.app, 'item-59', { available: false });
    expect(res.json()).toMatchObject({ itemId: 'item-59', available: false, title: null });
    await until(async () => ((await b.app.inject({ url: '/v1/items/item-59' })).json<{ available: boolean }>().available ? undefined : true), 15_000, 'replica b to see item-59 unavailable');
    for (const app of [a.app, b.app]) {
      const fallback = await ask(app, 'userId=newcomer&k=60');
      expect(fallback.items).toHaveLength(60); // 59 of the vocabulary plus brand-new-product
      expect(ids(fallback)).not.toContain('item-59');
      for (const variant of ['frozen', 'ladder']) {
        for (const history of [['item-1'], ['item-58', 'item-3'], ['item-59']]) {
          const answer = await askWithHistory(app, { history, k: 100, variant });
          expect(ids(answer), `${variant} ${history.join(',')}`).not.toContain('item-59');
        }
      }
    }
    await put(b.app, 'item-59', { available: true });
    await until(async () => (ids(await ask(a.app, 'userId=newcomer&k=1'))[0] === 'item-59' ? true : undefined), 15_000, 'item-59 back on replica a');
  });

  it('category filter (any case) and exclude, in the fallback and in model answers, GET and POST', async () => {
    const comedies = catalogue.itemIds.filter((id) => catalogue.metadata.get(id)?.categories.includes('Comedy'));
    expect(comedies.length).toBe(17);
    const fallback = await ask(a.app, 'userId=comedy-fan&category=COMEDY&k=100&exclude=item-48&exclude=item-45');
    expect(ids(fallback).sort()).toEqual(comedies.filter((id) => id !== 'item-48' && id !== 'item-45').sort());
    expect(fallback.items.every((i) => i.categories?.includes('Comedy'))).toBe(true);
    // Popularity order within the category: item-48 is excluded, item-45 too, so item-42 leads.
    expect(ids(fallback)[0]).toBe('item-42');
    for (const variant of ['frozen', 'ladder']) {
      const model = await askWithHistory(a.app, { history: ['item-3', 'item-10'], category: 'comedy', exclude: ['item-0'], k: 5, variant });
      expect(model.items).toHaveLength(5);
      expect(model.items.every((i) => i.categories?.includes('Comedy') && i.itemId !== 'item-0' && i.itemId !== 'item-3')).toBe(true);
      const all = await askWithHistory(a.app, { history: ['item-3'], category: 'Comedy', k: 100, variant });
      expect(ids(all).sort()).toEqual(comedies.filter((id) => id !== 'item-3').sort());
    }
    expect((await ask(a.app, 'userId=x&category=Western&k=5')).items).toEqual([]);
  });

  it('bad input is a 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ title: 7 }, 'title'],
      [{ title: '' }, 'title'],
      [{ title: 'bell\u0007' }, 'title'],
      [{ title: 'x'.repeat(513) }, 'title'],
      [{ categories: ['Comedy', 'Comedy'] }, 'categories'],
      [{ categories: ['ok', '\u200B'] }, 'categories[1]'],
      [{ categories: 'Comedy' }, 'categories'],
      [{ available: 'no' }, 'available'],
      [{ colour: 'red' }, 'colour'],
      [[], '$'],
    ];
    for (const [body, field] of cases) {
      const res = await put(a.app, 'item-9', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json<{ code: string; issues: { field: string }[] }>(), JSON.stringify(body)).toMatchObject({ code: 'RECO_ERR_VALIDATION' });
      expect(res.json<{ issues: { field: string }[] }>().issues.map((i) => i.field), JSON.stringify(body)).toContain(field);
    }
    expect((await a.app.inject({ url: '/v1/items/item-9' })).json()).toMatchObject({ title: 'Title 9 (1999)', updatedAt: null });
    for (const [query, field] of [
      ['userId=u&category=%00', 'category'],
      ['userId=u&category=', 'category'],
      ['userId=u&exclude=ok&exclude=%E2%80%8B', 'exclude[1]'],
    ] as const) {
      const res = await a.app.inject({ url: `/v1/recommendations?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json<{ issues: { field: string }[] }>().issues.map((i) => i.field), query).toContain(field);
    }
    const body = await a.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u', category: ['Comedy'] } });
    expect(body.json()).toMatchObject({ code: 'RECO_ERR_VALIDATION', issues: [{ field: 'category' }] });
  });

  it('the OpenAPI document has the item routes, the write behind the admin token', async () => {
    const doc = (await a.app.inject({ url: '/docs/json' })).json<{ paths: Record<string, Record<string, { security?: unknown }>> }>();
    expect(doc.paths['/v1/items/{itemId}']?.get).toBeDefined();
    expect(doc.paths['/v1/items/{itemId}']?.put?.security).toEqual([{ adminToken: [] }]);
  });

  it('random and hostile item writes and filtered requests never get a 5xx, only catalogue errors', async () => {
    const text = fc.oneof(fc.constantFrom('', ' ', '\u0000', '\u200B', '\uD800', 'x'.repeat(600), '__proto__', 'Comedy', 'comedy'), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
    const value = fc.oneof(text, fc.jsonValue({ maxDepth: 2 }), fc.array(text, { maxLength: 4 }));
    const body = fc.oneof(
      fc.record({ title: fc.oneof(text, value, fc.constant(null)), categories: fc.oneof(fc.array(text, { maxLength: 5 }), value), available: fc.oneof(fc.boolean(), value), [`extra`]: value }, { requiredKeys: [] }),
      value,
    );
    const itemId = fc.oneof(fc.constantFrom('fuzz-1', 'fuzz-2', 'fuzz-3'), text);
    const write = fc.record({ itemId, body, token: fc.constantFrom(true, true, false) });
    const query = fc.record({ category: fc.option(text, { nil: undefined }), exclude: fc.array(text, { maxLength: 3 }) });
    const statuses = new Map<number, number>();
    const check = (res: { statusCode: number; body: string }, what: string): void => {
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect(res.statusCode, what).toBeLessThan(500);
      if (res.statusCode < 400) return;
      const { code } = JSON.parse(res.body) as { code: ServingErrorCode };
      expect(SERVING_ERRORS[code]?.status, what).toBe(res.statusCode);
    };
    await fc.assert(
      fc.asyncProperty(write, query, async (w, q) => {
        const url = `/v1/items/${encode(w.itemId)}`;
        const res = await a.app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/json', ...(w.token ? admin : {}) }, payload: JSON.stringify(w.body) ?? 'null' });
        check(res, `PUT ${url} ${JSON.stringify(w.body)?.slice(0, 200)} -> ${res.body.slice(0, 200)}`);
        const params = ['userId=fuzzer', 'k=5', ...(q.category === undefined ? [] : [`category=${encode(q.category)}`]), ...q.exclude.map((id) => `exclude=${encode(id)}`)].join('&');
        const rec = await b.app.inject({ url: `/v1/recommendations?${params}` });
        check(rec, `GET ${params.slice(0, 200)} -> ${rec.body.slice(0, 200)}`);
      }),
      { numRuns: 200 },
    );
    for (const status of [200, 400, 401]) expect(statuses.get(status) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0);
    // The vocabulary's items were out of reach of the generated ids: the catalogue still serves them.
    expect(ids(await ask(a.app, 'userId=after-fuzz&k=60')).filter((id) => id.startsWith('item-'))).toHaveLength(60);
  }, 180_000);
});
