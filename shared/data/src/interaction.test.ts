import { describe, expect, it } from 'vitest';
import { isInteractionType, sortByTs } from './interaction.js';
import { createRng } from './rng.js';

describe('sortByTs', () => {
  it('matches a stable comparator sort, ties in input order', () => {
    const rng = createRng(11);
    for (const distinct of [1, 5, 1000]) {
      const events = Array.from({ length: 2000 }, (_, id) => ({ id, ts: 1_700_000_000_000 + rng.int(distinct) * 1000 }));
      const expected = [...events].sort((a, b) => a.ts - b.ts || a.id - b.id);
      expect(sortByTs(events)).toEqual(expected);
      // Sorted in place, as Array.prototype.sort would.
      expect(events).toEqual(expected);
    }
  });

  it('returns an already sorted or empty log untouched', () => {
    const sorted = [{ ts: 1 }, { ts: 1 }, { ts: 2 }];
    expect(sortByTs(sorted)).toBe(sorted);
    expect(sortByTs([])).toEqual([]);
  });
});

describe('isInteractionType', () => {
  it('accepts exactly the three event types', () => {
    expect(['click', 'view', 'purchase'].every(isInteractionType)).toBe(true);
    expect(isInteractionType('Click')).toBe(false);
    expect(isInteractionType(undefined)).toBe(false);
  });
});
