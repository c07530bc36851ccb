import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@reco/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { matMul } from '../matmul.js';
import { BatchedMatMulKernel, batchedMatMulKernel } from './batched-matmul-kernel.js';

function naive(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[t * m * k + i * k + p]! * b[t * k * n + p * n + j]!;
        c[t * m * n + i * n + j] = s;
      }
  return c;
}

function random(length: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length }, () => rng.next() * 2 - 1);
}

let kernel: BatchedMatMulKernel;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  kernel = await BatchedMatMulKernel.load();
});

describe('BatchedMatMulKernel', () => {
  // Whole 4 x 4 blocks, row and column tails, matrices smaller than one block, and one row.
  it.each([
    [2, 8, 4, 8],
    [3, 5, 7, 9],
    [4, 3, 2, 3],
    [5, 1, 6, 50],
    [128, 50, 32, 50],
  ])('multiplies [%i, %i, %i] x [., ., %i] as the textbook triple loop', (batch, m, k, n) => {
    const a = random(batch * m * k, m * 31 + n);
    const b = random(batch * k * n, k * 17 + batch);
    const got = kernel.multiply(a, b, batch, m, k, n);
    const want = naive(a, b, batch, m, k, n);
    expect(got.length).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-5 * k);
  });

  it('reuses its memory: a smaller product after a larger one reads only its own operands', () => {
    kernel.multiply(random(2 * 40 * 40, 1), random(2 * 40 * 40, 2), 2, 40, 40, 40);
    const got = kernel.multiply(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), 2, 1, 2, 1);
    expect(Array.from(got)).toEqual([1 * 5 + 2 * 6, 3 * 7 + 4 * 8]);
  });

  it('refuses operands whose lengths do not fit the shape, naming both', () => {
    expect(() => kernel.multiply(new Float32Array(5), new Float32Array(6), 1, 2, 3, 2)).toThrow(/5 and 6 values do not fit \[1, 2, 3\] x \[1, 3, 2\]/);
  });
});

describe('matMul on the kernel', () => {
  it('is loaded by initBackend on this backend', () => {
    expect(batchedMatMulKernel()).toBeDefined();
  });

  it('gives tf.matMul\'s product, and gradients w·bᵀ and aᵀ·w, for batched operands', () => {
    const [shapeA, shapeB] = [[2, 3, 6, 5], [2, 3, 5, 7]];
    const a = tf.tensor(random(2 * 3 * 6 * 5, 3), shapeA);
    const b = tf.tensor(random(2 * 3 * 5 * 7, 4), shapeB);
    const w = tf.tensor(random(2 * 3 * 6 * 7, 5), [2, 3, 6, 7]);
    const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y), w)))([a, b]);
    // The closed forms of the product's gradients.
    const theirs = [tf.matMul(w, b, false, true), tf.matMul(a, w, true, false)];
    const close = (x: tf.Tensor, y: tf.Tensor) => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]!;
    expect(close(matMul(a, b), tf.matMul(a, b))).toBeLessThan(1e-5);
    expect(close(ours[0]!, theirs[0]!)).toBeLessThan(1e-5);
    expect(close(ours[1]!, theirs[1]!)).toBeLessThan(1e-5);
  });
});
