import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { softmaxCrossEntropy } from './softmax-cross-entropy.js';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

describe('softmaxCrossEntropy', () => {
  it('matches -log softmax at the target, weighted, and its gradient is (softmax - onehot) · w / Σw', () => {
    const logits = [
      [1, 2, 0.5],
      [0, -1, 3],
      [2, 2, 2],
    ];
    const targets = [1, 2, 0];
    const weights = [1, 0, 2];
    const [loss, grad] = tf.tidy(() => {
      const x = tf.tensor2d(logits);
      const f = (t: tf.Tensor) => softmaxCrossEntropy(t as tf.Tensor2D, tf.tensor1d(targets, 'int32'), tf.tensor1d(weights));
      return [f(x).dataSync()[0] ?? 0, tf.grad(f)(x).arraySync() as number[][]];
    });
    const softmax = logits.map((row) => {
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
    const total = weights.reduce((a, b) => a + b, 0);
    const expected = targets.reduce((sum, t, i) => sum - (weights[i] ?? 0) * Math.log(softmax[i]?.[t] ?? 1), 0) / total;
    expect(loss).toBeCloseTo(expected, 5);
    softmax.forEach((row, i) =>
      row.forEach((p, j) => expect(grad[i]?.[j]).toBeCloseTo(((p - (j === targets[i] ? 1 : 0)) * (weights[i] ?? 0)) / total, 5)),
    );
  });

  it('stays exact for a target scored far below the rest, where its probability underflows to zero', () => {
    // exp(-300) is 0 in float32 (and in float64 below about -745): -log p_t must come from the
    // logits, not from the probability.
    const logits = [[0, -300, -1], [5, 5, -250]];
    const loss = tf.tidy(() => softmaxCrossEntropy(tf.tensor2d(logits), tf.tensor1d([1, 2], 'int32')).dataSync()[0] ?? Number.NaN);
    const logSumExp = (row: number[]) => {
      const m = Math.max(...row);
      return m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    };
    const expected = (logSumExp(logits[0] as number[]) + 300 + logSumExp(logits[1] as number[]) + 250) / 2;
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeCloseTo(expected, 3);
  });
});
