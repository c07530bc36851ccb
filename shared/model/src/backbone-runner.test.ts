import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import { PAD_ID, UNK_ID } from './backbone-config.js';
import { TfjsBackboneRunner } from './backbone-runner.js';
import { ItemCatalogue } from './item-catalogue.js';
import { encodeSequences } from './sequence-batch.js';

const config = { numItems: 10, dim: 8, blocks: 3, heads: 2, maxLen: 5, ffnDim: 16, layerNormEpsilon: 1e-5 };
let backbone: Backbone;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  backbone = Backbone.random(config, createRng(8));
});

afterAll(() => backbone.dispose());

describe('encodeSequences', () => {
  it('left-pads, keeps the newest maxLen items and feeds side items to the backbone as UNK', () => {
    const catalogue = new ItemCatalogue(Array.from({ length: 10 }, (_, i) => `i${i}`), 4);
    const side = catalogue.ensureSlot('new') as number;
    const batch = encodeSequences([[2, 3], [2, 3, 4, 5, 6, side, 7]], catalogue, 5);
    expect(Array.from(batch.ids)).toEqual([PAD_ID, PAD_ID, PAD_ID, 2, 3, 4, 5, 6, UNK_ID, 7]);
    expect(batch.batchSize).toBe(2);
  });
});

describe('TfjsBackboneRunner', () => {
  it('returns the last-position user state and every block output, as the forward computes them', async () => {
    const ids = new Int32Array([0, 0, 2, 3, 4, 5, 6, 7, 8, 9]);
    const runner = new TfjsBackboneRunner(backbone);
    const before = tf.memory().numTensors;
    const out = await runner.run({ ids, batchSize: 2, maxLen: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(out.blockOutputs).toHaveLength(3);
    expect(out.userState).toHaveLength(16);
    const [hidden, lastBlock] = tf.tidy(() => {
      const r = backbone.forward(tf.tensor2d(ids, [2, 5], 'int32'));
      const last = (x: tf.Tensor3D) => tf.reshape(tf.slice(x, [0, 4, 0], [2, 1, 8]), [16]).dataSync();
      return [last(r.hidden), last(r.blockOutputs[2] as tf.Tensor3D)];
    });
    expect(Array.from(out.userState)).toEqual(Array.from(hidden ?? []));
    expect(Array.from(out.blockOutputs[2] ?? [])).toEqual(Array.from(lastBlock ?? []));
    await expect(runner.run({ ids, batchSize: 1, maxLen: 10 })).rejects.toThrow(/length 5/);
  });

  it('gives padding no influence on the user state (changing the PAD row changes nothing)', async () => {
    const tensors = new Map(backbone.weightNames().map((n) => [n, tf.clone(backbone.weight(n))]));
    const table = tensors.get('item_embedding') as tf.Tensor;
    tensors.set('item_embedding', tf.tidy(() => tf.concat([tf.fill([1, 8], 7.5), tf.slice(table, [1, 0], [-1, -1])], 0)));
    table.dispose();
    const altered = new Backbone(config, tensors);
    const ids = new Int32Array([0, 0, 0, 4, 5]);
    const a = await new TfjsBackboneRunner(backbone).run({ ids, batchSize: 1, maxLen: 5 });
    const b = await new TfjsBackboneRunner(altered).run({ ids, batchSize: 1, maxLen: 5 });
    Array.from(a.userState).forEach((v, i) => expect(b.userState[i]).toBeCloseTo(v, 5));
    altered.dispose();
  });
});
