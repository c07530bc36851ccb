import { describe, expect, it } from 'vitest';
import { MicroBatcher } from './micro-batcher.js';

/** An engine that doubles numbers, records each call's jobs, and can be held open or made to fail. */
function doubler() {
  const calls: number[][] = [];
  let hold: Promise<void> | undefined;
  let fail: Error | undefined;
  const engine = async (jobs: readonly number[]): Promise<number[]> => {
    calls.push([...jobs]);
    if (hold !== undefined) await hold;
    if (fail !== undefined) throw fail;
    return jobs.map((j) => j * 2);
  };
  return {
    calls,
    engine,
    holdUntil: (p: Promise<void> | undefined) => void (hold = p),
    failWith: (e: Error | undefined) => void (fail = e),
  };
}

describe('MicroBatcher', () => {
  it('answers the jobs submitted in one turn with one engine call, each its own result', async () => {
    const e = doubler();
    const rows: number[] = [];
    const batcher = new MicroBatcher(e.engine, { onBatch: (n) => rows.push(n) });
    await expect(Promise.all([1, 2, 3, 4].map((j) => batcher.submit(j, 1)))).resolves.toEqual([2, 4, 6, 8]);
    expect(e.calls).toEqual([[1, 2, 3, 4]]);
    expect(rows).toEqual([4]);
  });

  it('counts rows against maxBatch, sends an oversized job alone, and queues arrivals during a call into the next one', async () => {
    const e = doubler();
    const batcher = new MicroBatcher(e.engine, { maxBatch: 4, maxWaitMs: 1000 });
    let open!: () => void;
    e.holdUntil(new Promise<void>((r) => (open = r)));
    const first = batcher.submit(1, 1);
    await new Promise((r) => setImmediate(r));
    expect(e.calls).toEqual([[1]]);
    // Arrivals while the first call runs wait for it (the timer is long), then go together,
    // except what would push a batch past four rows.
    const later = [batcher.submit(2, 2), batcher.submit(3, 1), batcher.submit(4, 9), batcher.submit(5, 1)];
    e.holdUntil(undefined);
    open();
    await expect(Promise.all([first, ...later])).resolves.toEqual([2, 4, 6, 8, 10]);
    expect(e.calls).toEqual([[1], [2, 3], [4], [5]]);
  });

  it('starts a waiting batch after maxWaitMs while a slow call still runs', async () => {
    const e = doubler();
    const batcher = new MicroBatcher(e.engine, { maxWaitMs: 5 });
    let open!: () => void;
    e.holdUntil(new Promise<void>((r) => (open = r)));
    const slow = batcher.submit(1, 1);
    await new Promise((r) => setImmediate(r));
    e.holdUntil(undefined);
    await expect(batcher.submit(2, 1)).resolves.toBe(4);
    expect(e.calls).toEqual([[1], [2]]);
    open();
    await expect(slow).resolves.toBe(2);
  });

  it('rejects every job of a failed or short-answered call, keeps working, and refuses work after dispose', async () => {
    const e = doubler();
    const batcher = new MicroBatcher(e.engine);
    e.failWith(new Error('engine down'));
    const failed = await Promise.allSettled([batcher.submit(1, 1), batcher.submit(2, 1)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    e.failWith(undefined);
    await expect(batcher.submit(3, 1)).resolves.toBe(6);
    const short = new MicroBatcher(async () => [1]);
    await expect(Promise.all([short.submit(0, 1), short.submit(0, 1)])).rejects.toThrow(/answered 1 of 2 jobs/);
    const waiting = batcher.submit(4, 1);
    batcher.dispose('shutting down');
    await expect(waiting).rejects.toThrow(/shutting down/);
    await expect(batcher.submit(5, 1)).rejects.toThrow(/after dispose/);
  });

  it('refuses settings it cannot honour', () => {
    const e = doubler();
    expect(() => new MicroBatcher(e.engine, { maxBatch: 0 })).toThrow(/maxBatch/);
    expect(() => new MicroBatcher(e.engine, { maxWaitMs: -1 })).toThrow(/maxWaitMs/);
  });
});
