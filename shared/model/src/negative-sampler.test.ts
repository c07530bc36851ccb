import { createRng } from '@reco/data';
import { describe, expect, it } from 'vitest';
import { NegativeSampler } from './negative-sampler.js';

const sampler = (numSlots: number, seed = 1, firstValidSlot = 1): NegativeSampler =>
  new NegativeSampler({ rng: createRng(seed), numSlots, firstValidSlot });

describe('NegativeSampler.sample', () => {
  it('draws distinct valid slots and never an excluded one', () => {
    const s = sampler(1000);
    const exclude = new Set([3, 5, 7, 11, 999]);
    for (let round = 0; round < 50; round++) {
      const negatives = s.sample(64, exclude);
      expect(negatives).toHaveLength(64);
      expect(new Set(negatives).size).toBe(64);
      for (const slot of negatives) {
        expect(slot).toBeGreaterThanOrEqual(1);
        expect(slot).toBeLessThan(1000);
        expect(exclude.has(slot)).toBe(false);
      }
    }
  });

  it('is uniform over the valid slots (chi-square on 20 slots)', () => {
    const s = sampler(21);
    const counts = new Int32Array(21);
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const slot = s.sample(1, new Set())[0] ?? 0;
      counts[slot] = (counts[slot] ?? 0) + 1;
    }
    expect(counts[0]).toBe(0);
    const expected = draws / 20;
    const chi2 = [...counts.slice(1)].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 19 degrees of freedom: the 99.9th percentile is 43.8.
    expect(chi2).toBeLessThan(43.8);
  });

  it('still returns distinct slots when most of the catalogue is excluded or requested', () => {
    const s = sampler(101);
    const exclude = new Set<number>();
    for (let slot = 1; slot <= 80; slot++) exclude.add(slot);
    const negatives = s.sample(15, exclude);
    expect(new Set(negatives).size).toBe(15);
    for (const slot of negatives) expect(slot).toBeGreaterThan(80);
    expect([...s.sample(20, exclude)].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 81 + i));
  });

  it('returns exactly n with every eligible slot present when n exceeds what is eligible', () => {
    const s = sampler(6);
    const negatives = s.sample(10, new Set([2]));
    expect(negatives).toHaveLength(10);
    expect(new Set(negatives)).toEqual(new Set([1, 3, 4, 5]));
  });

  it('throws when every slot is excluded, and on bad sizes', () => {
    const s = sampler(3);
    expect(() => s.sample(1, new Set([1, 2]))).toThrow(/excluded/);
    expect(s.sample(0, new Set([1, 2]))).toHaveLength(0);
    expect(() => s.sample(-1, new Set())).toThrow(RangeError);
    expect(() => s.sample(1.5, new Set())).toThrow(RangeError);
  });

  it('is reproducible from the seed', () => {
    const a = sampler(500, 42);
    const b = sampler(500, 42);
    for (let i = 0; i < 10; i++) expect([...a.sample(30, new Set([1]))]).toEqual([...b.sample(30, new Set([1]))]);
    expect([...sampler(500, 43).sample(30, new Set())]).not.toEqual([...sampler(500, 42).sample(30, new Set())]);
  });
});

describe('NegativeSampler.grow', () => {
  it('makes newly added slots drawable and refuses to shrink', () => {
    const s = sampler(11);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) for (const slot of s.sample(5, new Set())) seen.add(slot);
    expect(Math.max(...seen)).toBe(10);
    s.grow(21);
    expect(s.numSlots).toBe(21);
    expect(s.validSlots).toBe(20);
    for (let i = 0; i < 200; i++) for (const slot of s.sample(5, new Set())) seen.add(slot);
    expect(Math.max(...seen)).toBe(20);
    expect(() => s.grow(5)).toThrow(RangeError);
  });
});

describe('NegativeSampler.sampleForEvaluation', () => {
  it('draws 100 distinct negatives that are neither the target nor seen', () => {
    const s = sampler(2000, 9);
    const seen = new Set([10, 20, 30]);
    const negatives = s.sampleForEvaluation(5, seen, 100);
    expect(negatives).toHaveLength(100);
    expect(new Set(negatives).size).toBe(100);
    for (const slot of negatives) {
      expect(slot).not.toBe(5);
      expect(seen.has(slot)).toBe(false);
      expect(slot).toBeGreaterThanOrEqual(1);
    }
    expect(seen).toEqual(new Set([10, 20, 30]));
  });

  it('defaults to 100 and returns fewer, never repeated, when the catalogue is small', () => {
    expect(sampler(5000).sampleForEvaluation(1, new Set())).toHaveLength(100);
    const small = sampler(51).sampleForEvaluation(7, new Set([8]));
    expect(small).toHaveLength(48);
    expect(new Set(small).size).toBe(48);
  });
});

describe('NegativeSampler construction', () => {
  it('rejects an impossible slot range', () => {
    expect(() => new NegativeSampler({ rng: createRng(1), numSlots: 0, firstValidSlot: 1 })).toThrow(RangeError);
    expect(() => new NegativeSampler({ rng: createRng(1), numSlots: 5, firstValidSlot: -1 })).toThrow(RangeError);
  });
});
