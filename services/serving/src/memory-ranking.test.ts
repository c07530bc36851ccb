import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankingMismatch } from '@reco/model/testing';
import { startServingEngine, type ServingEngine } from './backbone-engine.js';
import { LiveModel } from './live-model.js';
import { ServingMetrics } from './metrics.js';
import { adaptationOf, addMemory, CO_VISIT_WEIGHT, ItemCoVisits, restoreAdaptation, type AdapterSnapshot, type SparseScores } from './model-api.js';
import { recommendFromHistory, scoreHistory, topItems } from './recommender.js';
import { makeSnapshot, tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

let backbone: TinyBackbone;
let engine: ServingEngine;

beforeAll(async () => {
  backbone = await tinyBackbone();
  engine = await startServingEngine(backbone.checkpoint.backbone, { engine: 'auto', threads: 1, providers: ['cpu'], cacheEntries: 0, batchMaxSize: 8, batchMaxWaitMs: 1 }, new ServingMetrics({ defaultMetrics: false }), () => undefined);
});

afterAll(() => {
  engine?.dispose();
  backbone?.checkpoint.backbone.dispose();
});

function withWeight(weight: number) {
  return (snapshot: AdapterSnapshot): void => {
    const w = snapshot.tensors.find((t) => t.name === CO_VISIT_WEIGHT);
    if (w === undefined) throw new Error('snapshot has no co-visit weight');
    w.values[0] = weight;
  };
}

function live(snapshot: AdapterSnapshot, fast: boolean): LiveModel {
  const { backbone: model, itemIds } = backbone.checkpoint;
  const adaptation = restoreAdaptation(adaptationOf(snapshot), model, itemIds, fast ? { runner: engine.fast.runner } : {});
  return new LiveModel({ ...snapshot.meta, appliedAt: 0 }, adaptation, fast ? { fast: engine.fast } : {});
}

/** Strong memory on items the backbone ranks low, so the memory visibly reorders the top. */
function memoryFor(model: LiveModel, ids: string[], value: number): SparseScores {
  const { catalogue } = model.adaptation;
  return { slots: Int32Array.from(ids, (id) => catalogue.slotOf(id) as number), values: Float32Array.from(ids, (_, i) => value - i * 0.1) };
}

const HISTORY = ['item-1', 'item-2', 'item-3'];
const MEMORY_ITEMS = ['item-40', 'item-41', 'item-42', 'item-43', 'item-1', 'item-55'];

describe('the co-visit memory in serving', () => {
  for (const weight of [2.5, -2.5]) {
    it(`the fast path ranks s + w·m exactly like scoring every item through TF.js (w = ${weight})`, async () => {
      const snapshot = await makeSnapshot(backbone, { version: 1, mutate: withWeight(weight) });
      const fast = live(snapshot, true);
      const reference = live(snapshot, false);
      try {
        expect(fast.memoryWeight).toBe(weight);
        // ONNX Runtime's top list merged with the memory (w > 0), or the whole catalogue in JavaScript (w < 0).
        expect(fast.fast?.ranked).toBeDefined();
        const memory = memoryFor(fast, MEMORY_ITEMS, 3);
        const scores = await scoreHistory(reference, HISTORY);
        addMemory(scores, memory, weight);
        const expected = topItems(reference.adaptation.catalogue, scores, 10, HISTORY);
        const got = await recommendFromHistory(fast, HISTORY, 10, HISTORY, undefined, memory);
        expect(rankingMismatch(got, expected)).toBeUndefined();
        // The memory changed the answer: without it the list differs.
        const plain = await recommendFromHistory(fast, HISTORY, 10, HISTORY);
        expect(plain.map((i) => i.itemId)).not.toEqual(got.map((i) => i.itemId));
        // With a filter, the same holds over what the filter accepts.
        const odd = (id: string): boolean => Number(id.split('-')[1]) % 2 === 1;
        const filtered = await recommendFromHistory(fast, HISTORY, 5, HISTORY, odd, memory);
        expect(rankingMismatch(filtered, topItems(reference.adaptation.catalogue, scores, 5, HISTORY, odd))).toBeUndefined();
      } finally {
        fast.retire();
        reference.retire();
      }
    });
  }

  it('a model with weight 0 (frozen, a fresh variant) answers as if there were no memory', async () => {
    const snapshot = await makeSnapshot(backbone, { version: 1, mutate: withWeight(0) });
    const model = live(snapshot, true);
    try {
      const memory = memoryFor(model, MEMORY_ITEMS, 3);
      expect(await recommendFromHistory(model, HISTORY, 10, HISTORY, undefined, memory)).toEqual(await recommendFromHistory(model, HISTORY, 10, HISTORY));
    } finally {
      model.retire();
    }
  });
});

describe('ItemCoVisits', () => {
  it('counts by item id and hands each model its memory in that model’s slots, leaving out items it has no slot for', () => {
    const visits = new ItemCoVisits();
    for (const [history, item] of [
      [[], 'a'],
      [['a'], 'b'],
      [[], 'a'],
      [['a'], 'b'],
      [['a', 'b'], 'c'],
    ] as const) visits.learn(history, item);
    const slots = new Map([
      ['a', 2],
      ['b', 7],
    ]);
    const memory = visits.memory(['a'], (id) => slots.get(id));
    // b co-occurs with a twice, c once but has no slot in this model.
    expect([...memory.slots]).toEqual([7]);
    expect(memory.values[0]).toBeGreaterThan(0);
    const other = visits.memory(['a'], (id) => (id === 'c' ? 30 : id === 'b' ? 31 : undefined));
    expect([...other.slots]).toEqual([31, 30]);
    // Ids it never counted vote for nothing and are not remembered.
    expect(visits.memory(['zzz'], (id) => slots.get(id)).slots.length).toBe(0);
    expect(visits.items).toBe(3);
  });
});
