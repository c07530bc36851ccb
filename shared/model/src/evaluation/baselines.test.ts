import { describe, expect, it } from 'vitest';
import { fitBaseline } from './baseline-suite.js';
import { ItemKnnBaseline } from './item-knn-baseline.js';
import { MarkovBaseline } from './markov-baseline.js';
import { PopularityBaseline } from './popularity-baseline.js';

const SLOTS = 10;
const scores = (b: { score(h: readonly number[], out: Float32Array): void }, history: number[]): Float32Array => {
  const out = new Float32Array(SLOTS);
  b.score(history, out);
  return out;
};
const order = (s: Float32Array): number[] => [...s.keys()].sort((a, b) => (s[b] as number) - (s[a] as number) || a - b);

describe('classic baselines', () => {
  it('popularity ranks by click count', () => {
    const p = new PopularityBaseline();
    fitBaseline(p, [[2, 3, 3], [4, 4, 4, 4]]);
    expect(order(scores(p, [])).slice(0, 3)).toEqual([4, 3, 2]);
  });

  it('markov ranks what followed the last item, then popularity', () => {
    const m = new MarkovBaseline();
    // 2 -> 5 twice, 2 -> 6 once; 7 is the most popular item overall but never follows 2.
    fitBaseline(m, [[2, 5], [2, 5], [2, 6], [7, 7, 7, 7]]);
    const s = order(scores(m, [9, 2]));
    expect(s.slice(0, 3)).toEqual([5, 6, 7]);
  });

  it('item-kNN is cosine over co-occurrence in a window, summed over the recent items', () => {
    const knn = new ItemKnnBaseline({ window: 2, recent: 2 });
    // 3 co-occurs with 2 in every sequence; 4 only once and it is very popular elsewhere.
    fitBaseline(knn, [[2, 3], [2, 3], [2, 4], [4, 4, 4, 4, 8]]);
    const s = scores(knn, [2]);
    expect(s[3]).toBeGreaterThan(s[4] as number);
    // sim(2,3) = C / sqrt(n2 n3): n counts clicks as a target; 2 is never a target here.
    expect(order(s)[0]).toBe(3);
    // The window: 8 came 4 events after the first 4 of its sequence, but within 2 of the last.
    expect(s[8]).toBeGreaterThan(0);
  });

  it('item-kNN options are validated', () => {
    expect(() => new ItemKnnBaseline({ window: 0 })).toThrow(RangeError);
    expect(() => new ItemKnnBaseline({ recent: 1.5 })).toThrow(RangeError);
  });
});
