import type * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@reco/data';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import { type BackboneConfig, PAD_ID } from './backbone-config.js';
import { DataParallelGradients } from './pretrain-shards.js';
import { type PretrainBatch, batchGradients } from './pretrain-step.js';

const config: BackboneConfig = { numItems: 40, dim: 16, blocks: 2, heads: 2, maxLen: 6, ffnDim: 32, layerNormEpsilon: 1e-5 };

/** Rows with different amounts of padding, so that the shards weigh differently. */
function batch(rows: number, candidates: boolean): PretrainBatch {
  const rng = createRng(7);
  const ids = new Int32Array(rows * config.maxLen).fill(PAD_ID);
  const labels = new Int32Array(rows * config.maxLen);
  const weights = new Float32Array(rows * config.maxLen);
  const slots = Int32Array.from({ length: 12 }, (_, i) => 2 + 3 * i);
  for (let r = 0; r < rows; r++) {
    const length = 1 + (r % config.maxLen);
    for (let p = config.maxLen - length; p < config.maxLen; p++) {
      const i = r * config.maxLen + p;
      ids[i] = 2 + rng.int(config.numItems);
      labels[i] = candidates ? rng.int(slots.length) : 2 + rng.int(config.numItems);
      weights[i] = 1;
    }
  }
  return { rows, maxLen: config.maxLen, ids, labels, weights, candidates: candidates ? slots : null };
}

/**
 * The largest difference between two gradients, relative to the largest gradient entry of any
 * weight (the key biases' true gradient is 0: attention is invariant to them, so their own scale
 * is rounding noise).
 */
function maxRelativeDifference(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  let worst = 0;
  let scale = 1e-12;
  for (const [name, ta] of Object.entries(a)) {
    const tb = b[name];
    if (tb === undefined) throw new Error(`gradient ${name} missing`);
    const x = ta.dataSync();
    const y = tb.dataSync();
    for (let i = 0; i < x.length; i++) {
      worst = Math.max(worst, Math.abs((x[i] ?? 0) - (y[i] ?? 0)));
      scale = Math.max(scale, Math.abs(y[i] ?? 0));
    }
  }
  return worst / scale;
}

let backbone: Backbone;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  backbone = Backbone.random(config, createRng(3), { trainable: true });
});

afterAll(() => backbone.dispose());

describe('data-parallel pretraining gradients', () => {
  for (const candidates of [true, false]) {
    it(`equal one thread's gradient and loss over the whole batch (${candidates ? 'sampled' : 'full'} softmax, unevenly padded shards)`, async () => {
      const b = batch(9, candidates);
      const whole = batchGradients(backbone, b, {});
      const parallel = await DataParallelGradients.start(backbone, { threads: 3, dropout: 0, rng: createRng(1) });
      try {
        expect(parallel.threads).toBe(3);
        const sharded = await parallel.gradients(b);
        expect(sharded.weight).toBe(whole.weight);
        expect(sharded.loss).toBeCloseTo(whole.loss, 5);
        expect(Object.keys(sharded.grads).sort()).toEqual(Object.keys(whole.grads).sort());
        expect(maxRelativeDifference(sharded.grads, whole.grads)).toBeLessThan(1e-4);
        for (const g of [...Object.values(sharded.grads), ...Object.values(whole.grads)]) g.dispose();
      } finally {
        await parallel.close();
      }
    });
  }

  it('follow the weights: a worker computes at the values the main thread holds at each step', async () => {
    const b = batch(6, true);
    const parallel = await DataParallelGradients.start(backbone, { threads: 2, dropout: 0, rng: createRng(1) });
    const saved = backbone.values();
    try {
      const shifted = new Map([...saved].map(([name, v]) => [name, Float32Array.from(v, (x, i) => x + 0.05 * Math.sin(i))]));
      backbone.assignValues(shifted);
      const whole = batchGradients(backbone, b, {});
      const sharded = await parallel.gradients(b);
      expect(maxRelativeDifference(sharded.grads, whole.grads)).toBeLessThan(1e-4);
      for (const g of [...Object.values(sharded.grads), ...Object.values(whole.grads)]) g.dispose();
    } finally {
      backbone.assignValues(saved);
      await parallel.close();
    }
  });

  it('ignore padding: a batch of padding only has no loss and no gradient', () => {
    const b = batch(2, true);
    b.weights.fill(0);
    const out = batchGradients(backbone, b, {});
    expect(out).toEqual({ loss: 0, weight: 0, grads: {} });
  });
});
