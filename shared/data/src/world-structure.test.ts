import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';
import { buildCatalogue, createWeightedSampler, dealPrimaryTopics, SUCCESSOR_WEIGHTS, tasteOver } from './world-structure.js';

describe('createWeightedSampler', () => {
  it('draws values in proportion to their weights, never a zero-weight one', () => {
    const sampler = createWeightedSampler([10, 20, 30, 40], [1, 0, 3, 6]);
    const rng = createRng(1);
    const counts = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const value = sampler.sample(rng);
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    expect(counts.get(20)).toBeUndefined();
    expect((counts.get(10) ?? 0) / 20_000).toBeCloseTo(0.1, 1);
    expect((counts.get(40) ?? 0) / 20_000).toBeCloseTo(0.6, 1);
  });

  it('refuses all-zero weights', () => {
    expect(() => createWeightedSampler([1, 2], [0, 0])).toThrow(RangeError);
  });
});

describe('world structure', () => {
  it('gives every item distinct successors other than itself', () => {
    const catalogue = buildCatalogue(120, 6, createRng(3));
    catalogue.successors.forEach((successors, item) => {
      expect(successors).toHaveLength(SUCCESSOR_WEIGHTS.length);
      expect(new Set(successors).size).toBe(successors.length);
      expect(successors).not.toContain(item);
    });
  });

  it('gives each group its own top topic and a taste that sums to 1', () => {
    const favourites = dealPrimaryTopics(6, 12, createRng(5));
    expect(new Set(favourites.map((f) => f[0])).size).toBe(6);
    for (const topics of favourites) {
      const taste = tasteOver(topics, 12);
      expect(taste.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 10);
      expect(taste[topics[0] ?? -1]).toBeGreaterThan(0.5);
    }
  });
});
