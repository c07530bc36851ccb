import { createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import { type BackboneRunOutput, type BackboneRunner, TfjsBackboneRunner } from './backbone-runner.js';
import { BatchingBackboneRunner } from './batching-runner.js';
import { CachedBackboneRunner } from './cached-runner.js';
import type { SequenceBatch } from './sequence-batch.js';

const config = { numItems: 20, dim: 8, blocks: 2, heads: 2, maxLen: 6, ffnDim: 16, layerNormEpsilon: 1e-5 };
let backbone: Backbone;
let reference: TfjsBackboneRunner;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  backbone = Backbone.random(config, createRng(3));
  reference = new TfjsBackboneRunner(backbone);
});

afterAll(() => backbone.dispose());

/** Counts what reaches the engine, so a test can tell batching and caching from plain calls. */
class CountingRunner implements BackboneRunner {
  readonly dim = config.dim;
  readonly blocks = config.blocks;
  readonly maxLen = config.maxLen;
  readonly calls: number[] = [];
  fail: Error | undefined;
  constructor(private readonly inner: BackboneRunner) {}
  async run(batch: SequenceBatch): Promise<BackboneRunOutput> {
    this.calls.push(batch.batchSize);
    if (this.fail) throw this.fail;
    return this.inner.run(batch);
  }
  dispose(): void {}
}

const row = (...ids: number[]): SequenceBatch => {
  const padded = new Int32Array(config.maxLen);
  padded.set(ids, config.maxLen - ids.length);
  return { ids: padded, batchSize: 1, maxLen: config.maxLen };
};

function expectSameRow(actual: BackboneRunOutput, actualRow: number, expected: BackboneRunOutput, expectedRow: number): void {
  const d = config.dim;
  const pick = (a: Float32Array, r: number) => Array.from(a.subarray(r * d, (r + 1) * d));
  expect(pick(actual.userState, actualRow)).toEqual(pick(expected.userState, expectedRow));
  actual.blockOutputs.forEach((b, i) => expect(pick(b, actualRow)).toEqual(pick(expected.blockOutputs[i] as Float32Array, expectedRow)));
}

describe('BatchingBackboneRunner', () => {
  it('turns concurrent requests into one engine call and hands each its own rows', async () => {
    const engine = new CountingRunner(reference);
    const sizes: number[] = [];
    const runner = new BatchingBackboneRunner(engine, { maxBatch: 64, maxWaitMs: 2, onBatch: (rows) => sizes.push(rows) });
    const requests = [row(2, 3), row(4), row(5, 6, 7, 8, 9, 10), row(11, 12)];
    const outs = await Promise.all(requests.map((r) => runner.run(r)));
    expect(engine.calls).toEqual([4]);
    expect(sizes).toEqual([4]);
    for (const [i, r] of requests.entries()) {
      const alone = await reference.run(r);
      const got = outs[i] as BackboneRunOutput;
      expect(got.batchSize).toBe(1);
      expectSameRow(got, 0, alone, 0);
    }
  });

  it('never puts more than maxBatch rows in a call, and queues arrivals during a call into the next one', async () => {
    const engine = new CountingRunner(reference);
    const runner = new BatchingBackboneRunner(engine, { maxBatch: 3, maxWaitMs: 50 });
    const first = Promise.all(Array.from({ length: 7 }, (_, i) => runner.run(row(2 + i))));
    await first;
    expect(engine.calls.every((n) => n <= 3)).toBe(true);
    expect(engine.calls.reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('rejects every request of a failed call, and keeps serving afterwards', async () => {
    const engine = new CountingRunner(reference);
    const runner = new BatchingBackboneRunner(engine);
    engine.fail = new Error('engine down');
    const failed = await Promise.allSettled([runner.run(row(2)), runner.run(row(3))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    engine.fail = undefined;
    await expect(runner.run(row(2))).resolves.toMatchObject({ batchSize: 1 });
    runner.dispose();
    await expect(runner.run(row(2))).rejects.toThrow(/after dispose/);
  });
});

describe('CachedBackboneRunner', () => {
  it('returns exactly the engine outputs, runs each distinct sequence once, and evicts the least recently used', async () => {
    const engine = new CountingRunner(reference);
    const runner = new CachedBackboneRunner(engine, { maxEntries: 2 });
    const a = row(2, 3);
    const b = row(4, 5);
    const c = row(6);
    const both: SequenceBatch = { ids: Int32Array.from([...a.ids, ...b.ids, ...a.ids]), batchSize: 3, maxLen: config.maxLen };
    const first = await runner.run(both);
    expect(engine.calls).toEqual([2]);
    const direct = await reference.run(both);
    for (let r = 0; r < 3; r++) expectSameRow(first, r, direct, r);

    const again = await runner.run(a);
    expect(engine.calls).toEqual([2]);
    expectSameRow(again, 0, direct, 0);

    await runner.run(c); // evicts b (a was used more recently)
    expect(engine.calls).toEqual([2, 1]);
    expect(runner.stats).toMatchObject({ entries: 2, evictions: 1 });
    await runner.run(a);
    expect(engine.calls).toEqual([2, 1]);
    await runner.run(b);
    expect(engine.calls).toEqual([2, 1, 1]);
    expect(runner.stats.hits).toBe(3);
    expect(runner.stats.misses).toBe(4);
  });
});
