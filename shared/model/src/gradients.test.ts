import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

/** Central differences of f at x, one coordinate at a time (float32, so a coarse step). */
function numerical(f: (x: tf.Tensor2D) => tf.Scalar, values: number[], shape: [number, number], eps = 5e-3): number[] {
  return values.map((_, i) => {
    const at = (delta: number): number =>
      tf.tidy(() => f(tf.tensor2d(values.map((v, j) => (j === i ? v + delta : v)), shape)).dataSync()[0] ?? Number.NaN);
    return (at(eps) - at(-eps)) / (2 * eps);
  });
}

// Each term exercises some of the hand-registered gradients (see gradients.ts).
const terms: Record<string, (x: tf.Tensor2D) => tf.Scalar> = {
  'Softmax, Multiply, Sum': (x) => tf.sum(tf.mul(tf.softmax(x), tf.tensor2d([[1, -2, 3], [0.5, 2, -1]]))),
  'Tanh, Mean': (x) => tf.mean(tf.tanh(x)),
  'Sigmoid, Square': (x) => tf.sum(tf.square(tf.sigmoid(x))),
  'Rsqrt, Add, RealDiv': (x) => tf.sum(tf.div(tf.rsqrt(tf.add(tf.square(x), 1)), tf.add(tf.mul(x, 0.2), 3))),
  'Max over an axis': (x) => tf.sum(tf.max(tf.mul(x, tf.tensor2d([[1, 2, 3], [3, 2, 1]])), 1)),
  'Concat, Slice, Transpose, Reshape': (x) =>
    tf.sum(tf.mul(tf.reshape(tf.transpose(tf.concat([tf.slice(x, [0, 1], [2, 2]), x], 1)), [2, 5]), tf.reshape(tf.range(0, 10), [2, 5]))),
  'Exp, Log, Sub, Neg': (x) => tf.sum(tf.neg(tf.sub(tf.log(tf.add(tf.exp(x), 1)), tf.mul(x, 0.3)))),
  'Relu, Softplus, Sqrt': (x) => tf.sum(tf.add(tf.relu(tf.sub(x, 0.05)), tf.sqrt(tf.add(tf.softplus(x), 1)))),
  'Pack, Unpack, AddN': (x) => {
    const [a, b] = tf.unstack(x) as [tf.Tensor1D, tf.Tensor1D];
    return tf.sum(tf.mul(tf.stack([tf.addN([a, b, a]), b]), tf.tensor2d([[1, 2, 3], [4, 5, 6]])));
  },
};

describe('registered gradients', () => {
  it.each(Object.keys(terms))('%s match central differences', (name) => {
    const f = terms[name] as (x: tf.Tensor2D) => tf.Scalar;
    const values = [0.3, -0.7, 1.1, 0.45, -1.3, 0.8];
    const analytic = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D))(tf.tensor2d(values, [2, 3])).dataSync()));
    numerical(f, values, [2, 3]).forEach((g, i) => expect(analytic[i]).toBeCloseTo(g, 2));
  });
});
