import { createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingItemRanker } from './batching-item-ranker.js';
import { OrtItemRanker } from './ort-item-ranker.js';

const dim = 16;
const slots = 300;
const rng = createRng(11);
const randomTable = () => ({
  table: Float32Array.from({ length: slots * dim }, () => rng.normal()),
  bias: Float32Array.from({ length: slots }, () => rng.normal() * 0.1),
});
let single: OrtItemRanker;
let reference: OrtItemRanker;

beforeAll(async () => {
  single = await OrtItemRanker.create(dim);
  reference = await OrtItemRanker.create(dim);
});

afterAll(() => reference.dispose());

describe('BatchingItemRanker', () => {
  it('answers concurrent requests with one engine call per table, each exactly as ranked alone, for its own k', async () => {
    const rows: number[] = [];
    const ranker = new BatchingItemRanker(single, { onBatch: (n) => rows.push(n) });
    const a = randomTable();
    const b = randomTable();
    const [tableA, tableB] = [ranker.table(a.table, a.bias), ranker.table(b.table, b.bias)];
    const [refA, refB] = [reference.table(a.table, a.bias), reference.table(b.table, b.bias)];
    const requests = Array.from({ length: 9 }, (_, i) => ({ h: Float32Array.from({ length: dim }, () => rng.normal()), onA: i % 3 !== 2, k: [5, 10, 40][i % 3] as number }));
    const states = requests.map((r) => r.h.slice());
    const pending = requests.map((r) => ranker.top(r.h, r.onA ? tableA : tableB, r.k));
    // The state is copied at the call: the caller may reuse its buffer at once.
    for (const r of requests) r.h.fill(0);
    const got = await Promise.all(pending);
    expect(rows).toEqual([9]);
    for (const [i, r] of requests.entries()) {
      const alone = await reference.top(states[i] as Float32Array, r.onA ? refA : refB, r.k);
      expect(Array.from(got[i]?.slots ?? [])).toEqual(Array.from(alone.slots));
      expect(Array.from(got[i]?.scores ?? [])).toEqual(Array.from(alone.scores));
    }
    ranker.dispose();
    await expect(single.top(new Float32Array(dim), tableA, 1)).rejects.toThrow(/after dispose/);
  });

  it('refuses a user state of the wrong width without disturbing the others in its turn', async () => {
    const ranker = new BatchingItemRanker(await OrtItemRanker.create(dim));
    const t = randomTable();
    const table = ranker.table(t.table, t.bias);
    const [bad, good] = await Promise.allSettled([ranker.top(new Float32Array(dim + 1), table, 3), ranker.top(new Float32Array(dim), table, 3)]);
    expect(bad.status).toBe('rejected');
    expect(good.status === 'fulfilled' && good.value.slots.length).toBe(3);
    ranker.dispose();
  });
});
