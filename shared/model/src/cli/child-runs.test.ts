import { describe, expect, it } from 'vitest';
import { mapConcurrently } from './child-runs.js';

describe('mapConcurrently', () => {
  it('runs at most `limit` at once and returns results in the items order', async () => {
    let running = 0;
    let most = 0;
    const delays = [30, 5, 20, 1, 10];
    const out = await mapConcurrently(delays, 2, async (ms) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running--;
      return ms * 2;
    });
    expect(out).toEqual([60, 10, 40, 2, 20]);
    expect(most).toBe(2);
  });

  it('stops at the first failure', async () => {
    await expect(mapConcurrently([1, 2, 3], 3, (n) => (n === 2 ? Promise.reject(new Error('two')) : Promise.resolve(n)))).rejects.toThrow('two');
  });
});
