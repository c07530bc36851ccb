import { createRng } from '@reco/data';
import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from './replay-buffer.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('ReplayBuffer', () => {
  it('stays within capacity and evicts the oldest first', () => {
    const buffer = new ReplayBuffer<number>({ capacity: 5, rng: createRng(1) });
    for (const i of range(0, 3)) buffer.push(i);
    expect(buffer.size).toBe(3);
    expect(buffer.toArray()).toEqual([0, 1, 2]);
    for (const i of range(3, 12)) buffer.push(i);
    expect(buffer.size).toBe(5);
    expect(buffer.toArray()).toEqual([7, 8, 9, 10, 11]);
  });

  it('puts all fresh examples first and fills the batch with distinct remembered ones', () => {
    const buffer = new ReplayBuffer<number>({ capacity: 100, rng: createRng(2) });
    for (const i of range(0, 100)) buffer.push(i);
    const fresh = [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007];
    const batch = buffer.drawBatch(32, fresh);
    expect(batch).toHaveLength(32);
    expect(batch.slice(0, 8)).toEqual(fresh);
    const replayed = batch.slice(8);
    expect(new Set(replayed).size).toBe(24);
    for (const item of replayed) expect(item).toBeLessThan(100);
  });

  it('remembers fresh examples only after drawing, so they never double up in their own batch', () => {
    const buffer = new ReplayBuffer<string>({ capacity: 10, rng: createRng(3) });
    const first = buffer.drawBatch(4, ['a', 'b']);
    expect(first).toEqual(['a', 'b']);
    expect(buffer.size).toBe(2);
    const second = buffer.drawBatch(4, ['c']);
    expect(second[0]).toBe('c');
    expect(second.slice(1).sort()).toEqual(['a', 'b']);
    expect(buffer.toArray()).toEqual(['a', 'b', 'c']);
  });

  it('keeps the mix ratio the trainer asks for and replays the window uniformly', () => {
    const buffer = new ReplayBuffer<number>({ capacity: 50, rng: createRng(4) });
    for (const i of range(0, 50)) buffer.push(i);
    const replayCounts = new Int32Array(50);
    let next = 50;
    const steps = 2000;
    for (let step = 0; step < steps; step++) {
      const fresh = [next, next + 1, next + 2, next + 3];
      // One quarter fresh, three quarters replayed.
      const batch = buffer.drawBatch(16, fresh);
      expect(batch).toHaveLength(16);
      expect(batch.filter((x) => x >= next).length).toBe(4);
      // Age of each replayed example within the 50-slot window, 0 = oldest.
      for (const item of batch.slice(4)) {
        const age = item - (next - 50);
        replayCounts[age] = (replayCounts[age] ?? 0) + 1;
      }
      next += 4;
    }
    const expected = (steps * 12) / 50;
    const chi2 = [...replayCounts].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 49 degrees of freedom: the 99.9th percentile is 85.4.
    expect(chi2).toBeLessThan(85.4);
  });

  it('returns a short batch while memory is thin and rejects fresh beyond the batch size', () => {
    const buffer = new ReplayBuffer<number>({ capacity: 10, rng: createRng(5) });
    buffer.push(1);
    expect(buffer.drawBatch(8, [2, 3])).toHaveLength(3);
    expect(() => buffer.drawBatch(2, [4, 5, 6])).toThrow(/split them into steps/);
    expect(() => buffer.drawBatch(0, [])).toThrow(RangeError);
  });

  it('draws identical batches from identical seeds', () => {
    const run = (seed: number): number[][] => {
      const buffer = new ReplayBuffer<number>({ capacity: 64, rng: createRng(seed) });
      const batches: number[][] = [];
      for (let step = 0; step < 40; step++) batches.push(buffer.drawBatch(16, [step * 2, step * 2 + 1]));
      return batches;
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
  });

  it('samples without repeats in both the sparse and the dense regime', () => {
    const buffer = new ReplayBuffer<number>({ capacity: 200, rng: createRng(6) });
    for (const i of range(0, 200)) buffer.push(i);
    for (const n of [5, 49, 50, 150, 200, 500]) {
      const sample = buffer.sample(n);
      expect(sample).toHaveLength(Math.min(n, 200));
      expect(new Set(sample).size).toBe(sample.length);
    }
    buffer.clear();
    expect(buffer.size).toBe(0);
    expect(buffer.sample(3)).toEqual([]);
  });
});
