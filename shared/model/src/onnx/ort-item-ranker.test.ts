import { createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topK } from '../ranking-metrics.js';
import { OrtItemRanker } from './ort-item-ranker.js';

const dim = 16;
const slots = 300;
let ranker: OrtItemRanker;

beforeAll(async () => {
  ranker = await OrtItemRanker.create(dim);
});

afterAll(() => ranker.dispose());

describe('OrtItemRanker', () => {
  it('returns the same top-k slots as scoring h · E + b in JavaScript, best first, scores within 1e-4', async () => {
    const rng = createRng(4);
    const table = Float32Array.from({ length: slots * dim }, () => rng.normal());
    const bias = Float32Array.from({ length: slots }, () => rng.normal() * 0.1);
    bias[0] = -Infinity;
    bias[1] = -Infinity;
    const prepared = ranker.table(table, bias);
    for (let trial = 0; trial < 5; trial++) {
      const h = Float32Array.from({ length: dim }, () => rng.normal());
      const scores = new Float32Array(slots);
      for (let s = 0; s < slots; s++) {
        let acc = bias[s] ?? 0;
        for (let i = 0; i < dim; i++) acc += (table[s * dim + i] ?? 0) * (h[i] ?? 0);
        scores[s] = acc;
      }
      const expected = topK(scores, 25);
      const got = await ranker.top(h, prepared, 25);
      expect(Array.from(got.slots)).toEqual(Array.from(expected));
      got.scores.forEach((v, i) => expect(Math.abs(v - (scores[expected[i] ?? 0] ?? 0))).toBeLessThan(1e-4));
    }
    // k beyond the catalogue gives every slot, the masked ones last.
    const all = await ranker.top(new Float32Array(dim), prepared, slots + 10);
    expect(all.slots).toHaveLength(slots);
    expect(Array.from(all.slots.slice(-2)).sort()).toEqual([0, 1]);
  });

  it("gives a state the same scores to the bit whether it is ranked alone or with others", async () => {
    const rng = createRng(9);
    const prepared = ranker.table(Float32Array.from({ length: slots * dim }, () => rng.normal()), Float32Array.from({ length: slots }, () => rng.normal()));
    const states = Float32Array.from({ length: 13 * dim }, () => rng.normal());
    const alone = await ranker.top(states.subarray(0, dim), prepared, 20);
    for (const rows of [2, 3, 8, 13]) {
      const ranked = await ranker.topRows(states.slice(0, rows * dim), rows, prepared, 20);
      expect(ranked.slots).toHaveLength(rows * 20);
      expect(Array.from(ranked.slots.subarray(0, 20))).toEqual(Array.from(alone.slots));
      expect(Array.from(ranked.scores.subarray(0, 20))).toEqual(Array.from(alone.scores));
    }
  });

  it('refuses a user state of the wrong width, and use after dispose', async () => {
    const prepared = ranker.table(new Float32Array(4 * dim), new Float32Array(4));
    await expect(ranker.top(new Float32Array(dim + 1), prepared, 2)).rejects.toThrow(/user state of 16/);
    const other = await OrtItemRanker.create(dim);
    other.dispose();
    await expect(other.top(new Float32Array(dim), prepared, 2)).rejects.toThrow(/after dispose/);
  });
});
