import { createRng } from '@reco/data';
import { describe, expect, it } from 'vitest';
import { PrequentialTracker } from './prequential.js';

const n3 = 1 / Math.log2(5); // NDCG of rank 3

describe('PrequentialTracker', () => {
  it('reports zeros with count 0 before any record', () => {
    const t = new PrequentialTracker({ windowSize: 3 });
    expect(t.rolling()).toEqual({ count: 0, hr10: 0, ndcg10: 0 });
    expect(t.overall()).toEqual({ count: 0, hr10: 0, ndcg10: 0 });
    expect(t.windows()).toEqual([]);
    expect(t.first()).toBeNull();
    expect(t.last()).toBeNull();
  });

  it('averages the rolling figures over the last windowSize records only', () => {
    const t = new PrequentialTracker({ windowSize: 3 });
    t.record(0);
    expect(t.rolling()).toEqual({ count: 1, hr10: 1, ndcg10: 1 });
    t.record(3);
    t.record(50);
    expect(t.rolling().count).toBe(3);
    expect(t.rolling().hr10).toBeCloseTo(2 / 3, 12);
    expect(t.rolling().ndcg10).toBeCloseTo((1 + n3) / 3, 12);
    // Rank 0 drops out of the window.
    t.record(10);
    expect(t.rolling().hr10).toBeCloseTo(1 / 3, 12);
    expect(t.rolling().ndcg10).toBeCloseTo(n3 / 3, 12);
    expect(t.overall().count).toBe(4);
    expect(t.overall().hr10).toBeCloseTo(2 / 4, 12);
    expect(t.overall().ndcg10).toBeCloseTo((1 + n3) / 4, 12);
  });

  it('closes consecutive windows with the event count and timestamp at their end', () => {
    const t = new PrequentialTracker({ windowSize: 2 });
    const ranks = [0, 3, 20, 30, 1, 0, 7];
    ranks.forEach((rank, i) => t.record(rank, 1000 + i));
    const w = t.windows();
    expect(w.map((x) => x.index)).toEqual([2, 4, 6]);
    expect(w.map((x) => x.ts)).toEqual([1001, 1003, 1005]);
    expect(w.map((x) => x.hr10)).toEqual([1, 0, 1]);
    expect(w[0]?.ndcg10).toBeCloseTo((1 + n3) / 2, 12);
    expect(w[1]?.ndcg10).toBe(0);
    expect(w[2]?.ndcg10).toBeCloseTo((1 / Math.log2(3) + 1) / 2, 12);
    expect(t.first()).toEqual(w[0]);
    expect(t.last()).toEqual(w[2]);
    // The seventh record is in the rolling figure but in no complete window yet.
    expect(t.rolling().count).toBe(2);
    expect(t.count).toBe(7);
  });

  it('omits ts when records carry none, and hands out copies', () => {
    const t = new PrequentialTracker({ windowSize: 1 });
    t.record(0);
    expect(t.last()).toEqual({ index: 1, hr10: 1, ndcg10: 1 });
    expect('ts' in (t.last() ?? {})).toBe(false);
    const copy = t.windows();
    copy[0]!.hr10 = 0.5;
    expect(t.first()?.hr10).toBe(1);
  });

  it('shows a drift as a dip in the window curve', () => {
    const t = new PrequentialTracker({ windowSize: 100 });
    const rng = createRng(1);
    for (let i = 0; i < 1000; i++) t.record(i >= 500 && i < 600 ? 10 + rng.int(100) : rng.int(10));
    const curve = t.windows().map((w) => w.hr10);
    expect(curve).toEqual([1, 1, 1, 1, 1, 0, 1, 1, 1, 1]);
  });

  it('keeps the rolling NDCG equal to a direct mean after many records', () => {
    const t = new PrequentialTracker({ windowSize: 37 });
    const rng = createRng(2);
    const ranks: number[] = [];
    for (let i = 0; i < 20_000 + 11; i++) {
      const rank = rng.int(15) + (rng.next() < 0.3 ? 0.5 : 0);
      ranks.push(rank);
      t.record(rank);
    }
    const tail = ranks.slice(-37);
    const direct = tail.reduce((s, r) => s + (r < 10 ? 1 / Math.log2(r + 2) : 0), 0) / 37;
    expect(t.rolling().ndcg10).toBeCloseTo(direct, 12);
  });

  it('rejects an invalid window size and invalid ranks', () => {
    expect(() => new PrequentialTracker({ windowSize: 0 })).toThrow(RangeError);
    expect(() => new PrequentialTracker({ windowSize: 2 }).record(-1)).toThrow(RangeError);
  });
});
