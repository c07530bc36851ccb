import { describe, expect, it } from 'vitest';
import { createRng } from '@reco/data';
import { CoVisits } from './co-visits.js';

/** Three users' click sequences over slots 2..9, counted in order. */
function counted(options = {}): CoVisits {
  const visits = new CoVisits(options);
  for (const clicks of [
    [2, 3, 4, 5],
    [2, 3, 6],
    [3, 4, 7, 2],
    [8, 9],
  ]) {
    const history: number[] = [];
    for (const slot of clicks) {
      visits.learn(history, slot);
      history.push(slot);
    }
  }
  return visits;
}

describe('CoVisits', () => {
  it('scores b for a history by cosine co-occurrence summed over its recent items', () => {
    const visits = counted();
    const out = new Float32Array(10);
    visits.addScores([2], out);
    // 2 co-occurs with 3 three times; n_2 = 3 and n_3 = 3.
    expect(out[3]).toBeCloseTo(3 / Math.sqrt(3 * 3), 6);
    // 2 and 6 once; n_6 = 1.
    expect(out[6]).toBeCloseTo(1 / Math.sqrt(3 * 1), 6);
    expect(out[8]).toBe(0);
    expect(out[9]).toBe(0);
    const two = new Float32Array(10);
    visits.addScores([2, 4], two);
    const four = new Float32Array(10);
    visits.addScores([4], four);
    for (let b = 0; b < 10; b++) expect(two[b]).toBeCloseTo((out[b] as number) + (four[b] as number), 6);
  });

  it('top() lists the same scores as addScores, best first, ties by slot, cut at the limit', () => {
    const visits = counted();
    const dense = new Float32Array(10);
    visits.addScores([3, 4], dense);
    const all = visits.top([3, 4], 100);
    const expected = [...dense.keys()].filter((b) => (dense[b] as number) > 0).sort((x, y) => (dense[y] as number) - (dense[x] as number) || x - y);
    expect([...all.slots]).toEqual(expected);
    all.slots.forEach((b, i) => expect(all.values[i]).toBeCloseTo(dense[b] as number, 6));
    const two = visits.top([3, 4], 2);
    expect([...two.slots]).toEqual(expected.slice(0, 2));
    // The scratch it accumulates in is clean again: the same call gives the same answer.
    expect([...visits.top([3, 4], 100).values]).toEqual([...all.values]);
  });

  it('top() keeps exactly the best of a full sort on a random stream with many ties, at every limit', () => {
    const rng = createRng(3);
    const visits = new CoVisits({ window: 8, recent: 4 });
    const histories = new Map<number, number[]>();
    for (let i = 0; i < 6000; i++) {
      const user = rng.int(150);
      const history = histories.get(user) ?? [];
      // A small catalogue with a popular head: long rows, and equal counts everywhere.
      const slot = 2 + (rng.next() < 0.5 ? rng.int(20) : rng.int(400));
      visits.learn(history, slot);
      history.push(slot);
      histories.set(user, history);
    }
    for (const [, history] of [...histories].slice(0, 40)) {
      const dense = new Float32Array(402);
      visits.addScores(history, dense);
      const sorted = [...dense.keys()].filter((b) => (dense[b] as number) > 0).sort((x, y) => (dense[y] as number) - (dense[x] as number) || x - y);
      for (const limit of [1, 7, 50, 100, 1000]) expect([...visits.top(history, limit).slots]).toEqual(sorted.slice(0, limit));
    }
  });

  it('only the last `recent` items vote, and only pairs within `window` events count', () => {
    const narrow = counted({ window: 1, recent: 1 });
    // With window 1, 2 and 4 never sat next to each other in [2, 3, 4, 5].
    expect([...narrow.top([2], 10).slots]).not.toContain(5);
    expect(narrow.top([9, 2], 10).slots).toEqual(narrow.top([2], 10).slots);
    expect(narrow.top([99], 10).slots.length).toBe(0);
    expect(() => new CoVisits({ recent: 0 })).toThrow(RangeError);
  });
});

describe('CoVisits past maxPairs', () => {
  it('halves every count and drops the pairs left below one, keeping the rest in proportion', () => {
    const visits = new CoVisits({ window: 1, maxPairs: 4 });
    // 2-3 twice and 4-5 once: 4 directed pairs, at the cap.
    for (const [history, target] of [[[], 2], [[2], 3], [[], 2], [[2], 3], [[], 4], [[4], 5]] as const) visits.learn(history, target);
    expect(visits.pairCount).toBe(4);
    const before = visits.top([2], 10);
    // A fifth directed pair crosses the cap: 2-3 (count 2) survives at 1, the pairs of count 1 go.
    visits.learn([6], 7);
    expect(visits.pairCount).toBe(2);
    expect(visits.count(3)).toBe(1);
    expect(visits.top([4], 10).slots.length).toBe(0);
    const after = visits.top([2], 10);
    expect([...after.slots]).toEqual([...before.slots]);
    // sim = C / sqrt(n_a n_b): counts and pairs halved together keep the similarity.
    expect(after.values[0]).toBeCloseTo(before.values[0] as number, 6);
  });
});
