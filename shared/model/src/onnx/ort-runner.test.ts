import { type Rng, createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Backbone } from '../backbone.js';
import { type BackboneConfig, FIRST_ITEM_ID, PAD_ID, UNK_ID } from '../backbone-config.js';
import { type BackboneRunOutput, TfjsBackboneRunner } from '../backbone-runner.js';
import { ItemCatalogue } from '../item-catalogue.js';
import { type SequenceBatch, encodeSequences } from '../sequence-batch.js';
import { userHistories } from '../testing/histories.js';
import { type SmallFixture, smallWorldFixture } from '../testing/small-world-fixture.js';
import { OrtBackboneRunner } from './ort-runner.js';

/** The engines must agree to this (max abs diff); float rounding alone gives about 1e-6. */
const PARITY = 1e-4;

let fixture: SmallFixture;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  fixture = await smallWorldFixture();
}, 180_000);

afterAll(() => fixture.checkpoint.backbone.dispose());

function maxAbsDiff(a: BackboneRunOutput, b: BackboneRunOutput): number {
  expect(a.batchSize).toBe(b.batchSize);
  expect(a.dim).toBe(b.dim);
  expect(a.blockOutputs).toHaveLength(b.blockOutputs.length);
  const pairs: [Float32Array, Float32Array][] = [[a.userState, b.userState], ...a.blockOutputs.map((x, i): [Float32Array, Float32Array] => [x, b.blockOutputs[i] ?? new Float32Array(0)])];
  let worst = 0;
  for (const [x, y] of pairs) {
    expect(x).toHaveLength(a.batchSize * a.dim);
    expect(y).toHaveLength(x.length);
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  }
  return worst;
}

/** Rows from real ids plus the edge cases: all padding, one item, UNK-heavy, full length. */
function edgeRows(maxLen: number, vocab: number, rng: Rng): number[][] {
  const item = (): number => FIRST_ITEM_ID + Math.floor(rng.next() * (vocab - FIRST_ITEM_ID));
  return [
    [],
    [item()],
    [UNK_ID],
    Array.from({ length: Math.min(3, maxLen) }, (_, i) => (i % 2 === 0 ? UNK_ID : item())),
    Array.from({ length: maxLen }, item),
    Array.from({ length: maxLen }, () => (rng.next() < 0.3 ? UNK_ID : item())),
  ];
}

function batchOf(rows: readonly (readonly number[])[], maxLen: number): SequenceBatch {
  const ids = new Int32Array(rows.length * maxLen).fill(PAD_ID);
  rows.forEach((row, r) => ids.set(row.slice(-maxLen), r * maxLen + maxLen - Math.min(row.length, maxLen)));
  return { ids, batchSize: rows.length, maxLen };
}

/** ORT vs TF.js on one batch and on each of its rows alone (batch 1); returns the worst diff. */
async function compare(ort: OrtBackboneRunner, tfjs: TfjsBackboneRunner, batch: SequenceBatch): Promise<number> {
  let worst = maxAbsDiff(await ort.run(batch), await tfjs.run(batch));
  for (let r = 0; r < Math.min(batch.batchSize, 6); r++) {
    const row = { ids: batch.ids.slice(r * batch.maxLen, (r + 1) * batch.maxLen), batchSize: 1, maxLen: batch.maxLen };
    worst = Math.max(worst, maxAbsDiff(await ort.run(row), await tfjs.run(row)));
  }
  return worst;
}

describe('OrtBackboneRunner parity with TfjsBackboneRunner', () => {
  it('agrees on the pretrained small-world backbone (real histories, padding, UNK, full rows)', async () => {
    const { backbone, itemIds } = fixture.checkpoint;
    const { maxLen } = backbone.config;
    const catalogue = new ItemCatalogue(itemIds, 16);
    // Histories from the log, cut at different lengths so padding varies; side items become UNK.
    const histories = [...userHistories(fixture.world.pretrainLog, catalogue).values()].slice(0, 34).map((h, i) => h.slice(0, 1 + ((i * 7) % (maxLen + 10))));
    const real = encodeSequences(histories, catalogue, maxLen);
    const edges = batchOf(edgeRows(maxLen, backbone.config.numItems + FIRST_ITEM_ID, createRng(4)), maxLen);
    const batch: SequenceBatch = { ids: Int32Array.from([...edges.ids, ...real.ids]), batchSize: edges.batchSize + real.batchSize, maxLen };
    expect(batch.batchSize).toBe(40);

    const ort = await OrtBackboneRunner.create(backbone, { threads: 1 });
    try {
      const diff = await compare(ort, new TfjsBackboneRunner(backbone), batch);
      console.info(`[parity] small-world fixture, batch ${batch.batchSize}: max abs diff ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(PARITY);
    } finally {
      ort.dispose();
    }
  });

  const shapes: [string, BackboneConfig][] = [
    ['d32, 3 blocks, 4 heads, maxLen 20', { numItems: 60, dim: 32, blocks: 3, heads: 4, maxLen: 20, ffnDim: 48, layerNormEpsilon: 1e-5 }],
    ['d8, 1 block, 1 head, maxLen 1', { numItems: 5, dim: 8, blocks: 1, heads: 1, maxLen: 1, ffnDim: 12, layerNormEpsilon: 1e-3 }],
  ];
  it.each(shapes)('agrees on a seeded random backbone (%s), with 2 threads', async (_, config) => {
    const backbone = Backbone.random(config, createRng(21));
    const rng = createRng(22);
    const vocab = config.numItems + FIRST_ITEM_ID;
    const rows = [...edgeRows(config.maxLen, vocab, rng)];
    while (rows.length < 40) {
      const length = Math.floor(rng.next() * (config.maxLen + 1));
      rows.push(Array.from({ length }, () => (rng.next() < 0.1 ? UNK_ID : FIRST_ITEM_ID + Math.floor(rng.next() * config.numItems))));
    }
    const ort = await OrtBackboneRunner.create(backbone, { threads: 2 });
    try {
      const diff = await compare(ort, new TfjsBackboneRunner(backbone), batchOf(rows, config.maxLen));
      console.info(`[parity] random backbone ${config.dim}d/${config.blocks}b/${config.heads}h/L${config.maxLen}, batch 40: max abs diff ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(PARITY);
    } finally {
      ort.dispose();
      backbone.dispose();
    }
  });
});

describe('OrtBackboneRunner', () => {
  const config: BackboneConfig = { numItems: 12, dim: 8, blocks: 2, heads: 2, maxLen: 5, ffnDim: 16, layerNormEpsilon: 1e-5 };
  const rows = (n: number, seed: number): SequenceBatch => {
    const rng = createRng(seed);
    return batchOf(
      Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(rng.next() * config.maxLen) }, () => FIRST_ITEM_ID + Math.floor(rng.next() * config.numItems))),
      config.maxLen,
    );
  };

  it('does not borrow the backbone: it keeps working after the backbone is disposed', async () => {
    const backbone = Backbone.random(config, createRng(1));
    const batch = rows(3, 1);
    const expected = await new TfjsBackboneRunner(backbone).run(batch);
    const runner = await OrtBackboneRunner.create(backbone);
    backbone.dispose();
    expect(maxAbsDiff(await runner.run(batch), expected)).toBeLessThan(PARITY);
    runner.dispose();
  });

  it('refuses a batch of the wrong length, a malformed batch and bad thread counts', async () => {
    const backbone = Backbone.random(config, createRng(2));
    const runner = await OrtBackboneRunner.create(backbone);
    await expect(runner.run({ ids: new Int32Array(10), batchSize: 1, maxLen: 10 })).rejects.toThrow(/expects sequences of length 5, got 10/);
    await expect(runner.run({ ids: new Int32Array(7), batchSize: 2, maxLen: 5 })).rejects.toThrow(/2 x 5 ids has 7 ids/);
    await expect(OrtBackboneRunner.create(backbone, { threads: 0 })).rejects.toThrow(RangeError);
    const empty = await runner.run({ ids: new Int32Array(0), batchSize: 0, maxLen: 5 });
    expect(empty.userState).toHaveLength(0);
    expect(empty.blockOutputs).toHaveLength(2);
    runner.dispose();
    backbone.dispose();
  });

  it('dispose is idempotent, lets started runs finish, and a later run fails clearly', async () => {
    const backbone = Backbone.random(config, createRng(3));
    const runner = await OrtBackboneRunner.create(backbone);
    const batch = rows(4, 3);
    const expected = await runner.run(batch);
    const started = runner.run(batch);
    runner.dispose();
    runner.dispose();
    expect(runner.isDisposed).toBe(true);
    expect(maxAbsDiff(await started, expected)).toBe(0);
    await expect(runner.run(batch)).rejects.toThrow('OrtBackboneRunner used after dispose()');
    backbone.dispose();
  });

  it('serves concurrent runs each with its own, stable output arrays', async () => {
    const backbone = Backbone.random(config, createRng(4));
    const runner = await OrtBackboneRunner.create(backbone, { threads: 2 });
    const batches = Array.from({ length: 12 }, (_, i) => rows(1 + (i % 5) * 7, 100 + i));
    const sequential: BackboneRunOutput[] = [];
    for (const b of batches) sequential.push(await runner.run(b));
    const snapshot = sequential.map((o) => Array.from(o.userState));
    const concurrent = await Promise.all(batches.map((b) => runner.run(b)));
    concurrent.forEach((out, i) => expect(maxAbsDiff(out, sequential[i] as BackboneRunOutput)).toBe(0));
    // Later runs did not write into earlier results, and no two outputs share memory.
    sequential.forEach((o, i) => expect(Array.from(o.userState)).toEqual(snapshot[i]));
    const buffers = new Set([...sequential, ...concurrent].flatMap((o) => [o.userState.buffer, ...o.blockOutputs.map((b) => b.buffer)]));
    expect(buffers.size).toBe(2 * batches.length * (1 + config.blocks));
    runner.dispose();
    backbone.dispose();
  });

  it('reads the ids at call time: the caller may reuse its buffer once run() has returned', async () => {
    const backbone = Backbone.random(config, createRng(5));
    const runner = await OrtBackboneRunner.create(backbone);
    const batch = rows(3, 5);
    const expected = await runner.run({ ...batch, ids: batch.ids.slice() });
    const pending = runner.run(batch);
    batch.ids.fill(UNK_ID);
    expect(maxAbsDiff(await pending, expected)).toBe(0);
    runner.dispose();
    backbone.dispose();
  });
});
