import { describe, expect, it } from 'vitest';
import { createRng } from '@reco/data';
import { PairCounts } from './pair-counts.js';

describe('PairCounts', () => {
  it('counts pairs exactly and lists each row, across index and entry growth (against a Map of Maps)', () => {
    const pairs = new PairCounts();
    const reference = new Map<number, Map<number, number>>();
    const rng = createRng(5);
    for (let i = 0; i < 20_000; i++) {
      const a = rng.int(300);
      const b = rng.int(3000);
      pairs.add(a, b);
      const row = reference.get(a) ?? new Map<number, number>();
      row.set(b, (row.get(b) ?? 0) + 1);
      reference.set(a, row);
    }
    let distinct = 0;
    for (const [a, row] of reference) {
      distinct += row.size;
      const listed = new Map<number, number>();
      pairs.forEachOf(a, (b, count) => listed.set(b, count));
      expect(listed).toEqual(row);
      for (const [b, count] of row) expect(pairs.get(a, b)).toBe(count);
    }
    expect(pairs.size).toBe(distinct);
    expect(pairs.get(299, 5000)).toBe(0);
  });

  it('is directed: (a, b) and (b, a) are different pairs', () => {
    const pairs = new PairCounts();
    pairs.add(1, 2, 3);
    expect(pairs.get(1, 2)).toBe(3);
    expect(pairs.get(2, 1)).toBe(0);
  });

  it('refuses slots outside the exact key range', () => {
    expect(() => new PairCounts().add(-1, 2)).toThrow(RangeError);
    expect(() => new PairCounts().add(1, 2 ** 26)).toThrow(RangeError);
  });
});
