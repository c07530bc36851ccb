import { createRng } from '@reco/data';
import { describe, expect, it } from 'vitest';
import {
  RankingAccumulator,
  fullRank,
  hitAtK,
  ndcgAtK,
  reciprocalRank,
  sampledRank,
  topK,
} from './ranking-metrics.js';

const f32 = (values: number[]): Float32Array => Float32Array.from(values);

describe('fullRank', () => {
  it('counts the slots scored strictly above the target', () => {
    const scores = f32([0.1, 0.9, 0.5, 0.7, 0.3]);
    expect(fullRank(scores, 1)).toBe(0);
    expect(fullRank(scores, 3)).toBe(1);
    expect(fullRank(scores, 2)).toBe(2);
    expect(fullRank(scores, 0)).toBe(4);
  });

  it('counts ties as half a place, so a constant scorer gets the middle rank', () => {
    expect(fullRank(f32([1, 2, 2, 2, 0]), 2)).toBe(1);
    const constant = new Float32Array(1001).fill(0.25);
    expect(fullRank(constant, 500)).toBe(500);
    expect(hitAtK(fullRank(constant, 500), 10)).toBe(0);
  });

  it('skips excluded competitors but always ranks the target itself', () => {
    const scores = f32([5, 9, 8, 1, 7]);
    expect(fullRank(scores, 4)).toBe(2);
    expect(fullRank(scores, 4, new Set([0, 1]))).toBe(1);
    expect(fullRank(scores, 4, new Set([4, 1, 2]))).toBe(0);
  });

  it('ranks a NaN target last and never lets a NaN competitor beat a number', () => {
    expect(fullRank(f32([NaN, 1, 2, 3]), 0, new Set([3]))).toBe(2);
    expect(fullRank(f32([NaN, 1, NaN, 3]), 1)).toBe(1);
  });

  it('ranks the same whether the exclusion lists its slots or is only asked, ties and NaN included', () => {
    const rng = createRng(13);
    for (let trial = 0; trial < 50; trial++) {
      const scores = Float32Array.from({ length: 200 }, () => Math.round(rng.next() * 12) / 4);
      if (trial % 10 === 0) scores[5] = Number.NaN;
      const target = trial % 10 === 0 ? 5 : rng.int(200);
      // The listed slots may hold the target and slots past the scores, which must change nothing.
      const excluded = new Set([target, 250, ...Array.from({ length: 30 }, () => rng.int(200))]);
      expect(fullRank(scores, target, excluded)).toBe(fullRank(scores, target, { has: (slot) => excluded.has(slot) }));
    }
  });

  it('rejects a target outside the score slots', () => {
    expect(() => fullRank(f32([1, 2]), 2)).toThrow(RangeError);
    expect(() => fullRank(f32([1, 2]), -1)).toThrow(RangeError);
  });
});

describe('sampledRank', () => {
  it('ranks the target only against the given negatives', () => {
    const scores = f32([0, 10, 9, 8, 1, 2, 3]);
    expect(fullRank(scores, 4)).toBe(5);
    expect(sampledRank(scores, 4, Int32Array.from([0, 5, 6]))).toBe(2);
    expect(sampledRank(scores, 4, Int32Array.from([0]))).toBe(0);
  });

  it('counts ties as half and ignores the target among its negatives', () => {
    const scores = f32([3, 3, 3, 5]);
    expect(sampledRank(scores, 0, Int32Array.from([1, 2, 3, 0]))).toBe(2);
  });
});

describe('per-rank metrics', () => {
  it('matches hand-computed values', () => {
    expect(hitAtK(0, 10)).toBe(1);
    expect(hitAtK(9, 10)).toBe(1);
    expect(hitAtK(10, 10)).toBe(0);
    expect(hitAtK(9.5, 10)).toBe(1);
    expect(ndcgAtK(0, 10)).toBe(1);
    expect(ndcgAtK(1, 10)).toBeCloseTo(1 / Math.log2(3), 12);
    expect(ndcgAtK(3, 10)).toBeCloseTo(1 / Math.log2(5), 12);
    expect(ndcgAtK(3, 10)).toBeCloseTo(0.430676558, 8);
    expect(ndcgAtK(10, 10)).toBe(0);
    expect(reciprocalRank(0)).toBe(1);
    expect(reciprocalRank(3)).toBe(0.25);
    expect(reciprocalRank(99)).toBe(0.01);
  });

  it('rejects impossible ranks', () => {
    expect(() => hitAtK(-1, 10)).toThrow(RangeError);
    expect(() => ndcgAtK(NaN, 10)).toThrow(RangeError);
    expect(() => reciprocalRank(Infinity)).toThrow(RangeError);
  });
});

describe('RankingAccumulator', () => {
  it('averages HR@10, NDCG@10 and MRR and keeps its protocol label', () => {
    const acc = new RankingAccumulator('sampled-100');
    for (const rank of [0, 3, 20]) acc.add(rank);
    const s = acc.summary();
    expect(s.protocol).toBe('sampled-100');
    expect(s.count).toBe(3);
    expect(s.hr10).toBeCloseTo(2 / 3, 12);
    expect(s.ndcg10).toBeCloseTo((1 + 1 / Math.log2(5)) / 3, 12);
    expect(s.mrr).toBeCloseTo((1 + 1 / 4 + 1 / 21) / 3, 12);
  });

  it('reports count 0 and zero metrics before any data', () => {
    expect(new RankingAccumulator('full').summary()).toEqual({ protocol: 'full', count: 0, hr10: 0, ndcg10: 0, mrr: 0 });
  });
});

/** Reference: a full stable sort, best score first, ties by lower slot, NaN last. */
function topKBySort(scores: Float32Array, k: number, exclude?: ReadonlySet<number>): number[] {
  const slots = [...scores.keys()].filter((i) => exclude?.has(i) !== true);
  const key = (i: number): number => {
    const s = scores[i] ?? NaN;
    return Number.isNaN(s) ? -Infinity : s;
  };
  const isNan = (i: number): number => (Number.isNaN(scores[i]) ? 1 : 0);
  slots.sort((a, b) => isNan(a) - isNan(b) || key(b) - key(a) || a - b);
  return slots.slice(0, k);
}

describe('topK', () => {
  it('agrees with a full sort on random data, with ties and exclusions', () => {
    const rng = createRng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rng.int(300);
      // Coarse scores force many ties; a few NaNs check they sink to the bottom.
      const scores = new Float32Array(n);
      for (let i = 0; i < n; i++) scores[i] = rng.next() < 0.02 ? NaN : rng.int(20) / 4;
      const exclude = new Set<number>();
      for (let i = 0; i < rng.int(n); i++) exclude.add(rng.int(n));
      const k = rng.int(n + 5);
      const expected = topKBySort(scores, k, trial % 2 === 0 ? exclude : undefined);
      expect([...topK(scores, k, trial % 2 === 0 ? exclude : undefined)]).toEqual(expected);
    }
  });

  it('returns the best slots in descending order', () => {
    expect([...topK(f32([0.1, 0.9, 0.5, 0.7, 0.3]), 3)]).toEqual([1, 3, 2]);
    expect([...topK(f32([0.1, 0.9, 0.5, 0.7, 0.3]), 3, new Set([1]))]).toEqual([3, 2, 4]);
  });

  it('handles k = 0, k beyond the catalogue and everything excluded', () => {
    const scores = f32([1, 2, 3]);
    expect(topK(scores, 0)).toHaveLength(0);
    expect([...topK(scores, 10)]).toEqual([2, 1, 0]);
    expect(topK(scores, 2, new Set([0, 1, 2]))).toHaveLength(0);
    expect(() => topK(scores, -1)).toThrow(RangeError);
  });

  it('is consistent with fullRank: the top slot has rank 0 when scores are distinct', () => {
    const rng = createRng(3);
    const scores = new Float32Array(500);
    for (let i = 0; i < scores.length; i++) scores[i] = rng.normal();
    const [best] = topK(scores, 1);
    expect(fullRank(scores, best ?? -1)).toBe(0);
  });
});
