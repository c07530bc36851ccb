import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CO_VISIT_WEIGHT } from './model-api.js';
import { harnessApplier, startHarness, until, type Harness } from './testing/harness.js';
import { makeSnapshot, tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

let backbone: TinyBackbone;
let h: Harness;

beforeAll(async () => {
  backbone = await tinyBackbone();
  h = await startHarness(backbone, { consumeHistory: true });
});

afterAll(async () => {
  await h?.close();
  backbone?.checkpoint.backbone.dispose();
});

interface Answer {
  variant: string;
  fallback?: string;
  historyLength: number;
  items: { itemId: string; score: number }[];
}

async function recommend(userId: string): Promise<Answer> {
  const res = await h.app.inject({ url: `/v1/recommendations?userId=${userId}&k=60&variant=frozen` });
  expect(res.statusCode).toBe(200);
  return res.json<Answer>();
}

async function postClick(userId: string, itemId: string): Promise<void> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/events', payload: { userId, itemId, type: 'click', ts: Date.now() } });
  expect(res.statusCode).toBe(202);
}

describe('history from the events stream', () => {
  it("a posted click shows in the user's next recommendations within a second: seen item excluded, history grown", async () => {
    const user = 'hist-user';
    const cold = await recommend(user);
    expect(cold).toMatchObject({ fallback: 'popularity', historyLength: 0 });

    const t0 = Date.now();
    await postClick(user, 'item-7');
    const first = await until(async () => {
      const answer = await recommend(user);
      return answer.historyLength === 1 ? answer : undefined;
    }, 5_000);
    const firstMs = Date.now() - t0;
    expect(first.fallback).toBeUndefined();
    expect(first.items.map((i) => i.itemId)).not.toContain('item-7');
    expect(first.items).toHaveLength(59);

    const t1 = Date.now();
    await postClick(user, 'item-9');
    const second = await until(async () => {
      const answer = await recommend(user);
      return answer.historyLength === 2 ? answer : undefined;
    }, 5_000);
    const secondMs = Date.now() - t1;
    expect(second.items.map((i) => i.itemId)).not.toContain('item-9');
    expect(second.items.map((i) => i.score)).not.toEqual(first.items.filter((i) => i.itemId !== 'item-9').map((i) => i.score));
    console.log(`[history] click -> next recommendation: ${firstMs} ms, ${secondMs} ms`);
    expect(Math.max(firstMs, secondMs)).toBeLessThan(1500);

    // The popularity fallback of unknown users follows the clicks.
    const fallback = await recommend('someone-new');
    expect(fallback.fallback).toBe('popularity');
    expect(fallback.items.map((i) => i.itemId).sort()).toEqual(['item-7', 'item-9']);
    const metrics = (await h.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^reco_history_users 1$/m);
    expect(metrics).toMatch(/^reco_history_events 2$/m);
    expect(metrics).toMatch(/^reco_consumer_lag\{service="serving",topic="[^"]+\.reco\.events",partition="\d+"\} 0$/m);
    expect(metrics).toMatch(/^reco_recommendations_total\{variant="frozen",fallback="popularity"\} \d+$/m);
  });

  it('with a lookback, history starts from the events of the last minutes, not only from now', async () => {
    const other = await startHarness(backbone, {
      consumeHistory: true,
      historyLookbackMs: 60_000,
      beforeConsumers: async (harness) => {
        const events = ['item-1', 'item-2', 'item-3'].map((itemId) => ({ userId: 'returning', itemId, type: 'view', ts: Date.now() }));
        expect((await harness.app.inject({ method: 'POST', url: '/v1/events', payload: { events } })).statusCode).toBe(202);
      },
    });
    try {
      await until(() => (other.history.get('returning').length === 3 ? true : undefined), 5_000, 'history from the lookback');
      expect(other.history.get('returning')).toEqual(['item-1', 'item-2', 'item-3']);
    } finally {
      await other.close();
    }
  });

  it('the clicks consumed are co-visit counts too: a model that weighs its memory ranks what others clicked after the same item first', async () => {
    // Three users click item-20 then item-51; a fourth has clicked only item-20.
    for (const user of ['co-1', 'co-2', 'co-3']) {
      await postClick(user, 'item-20');
      await postClick(user, 'item-51');
    }
    await postClick('co-4', 'item-20');
    await until(() => (h.history.get('co-4').length === 1 && h.history.get('co-3').length === 2 ? true : undefined), 5_000, 'the clicks in history');
    const ask = async (variant: string) => {
      const res = await h.app.inject({ url: `/v1/recommendations?userId=co-4&k=5&variant=${variant}` });
      expect(res.statusCode).toBe(200);
      return res.json<Answer>().items.map((i) => i.itemId);
    };
    const applier = await harnessApplier(h, backbone);
    const withWeight = (version: number, weight: number) =>
      makeSnapshot(backbone, {
        version,
        seed: 1,
        mutate: (snapshot) => {
          const w = snapshot.tensors.find((t) => t.name === CO_VISIT_WEIGHT);
          if (w === undefined) throw new Error('snapshot has no co-visit weight');
          w.values[0] = weight;
        },
      });
    // The same parameters without the memory do not rank item-51 first...
    expect(applier.apply(await withWeight(1, 0))).toMatchObject({ applied: true });
    expect((await ask('ladder'))[0]).not.toBe('item-51');
    // ...and with it they do.
    expect(applier.apply(await withWeight(2, 50))).toMatchObject({ applied: true });
    expect((await ask('ladder'))[0]).toBe('item-51');
  });
});
