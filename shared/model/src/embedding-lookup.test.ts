import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { markConstant } from './constant-tensors.js';
import { embeddingLookup, useRowCopy } from './embedding-lookup.js';
import { logitsAgainst, matMul } from './matmul.js';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

/** Central differences of a scalar function of one table entry at a time. */
function numericalGradient(f: (t: tf.Tensor2D) => tf.Scalar, table: Float32Array, shape: [number, number], eps = 1e-2): Float32Array {
  const grad = new Float32Array(table.length);
  for (let i = 0; i < table.length; i++) {
    const plus = table.slice();
    const minus = table.slice();
    plus[i] = (plus[i] ?? 0) + eps;
    minus[i] = (minus[i] ?? 0) - eps;
    const fp = tf.tidy(() => f(tf.tensor2d(plus, shape)).dataSync()[0] ?? 0);
    const fm = tf.tidy(() => f(tf.tensor2d(minus, shape)).dataSync()[0] ?? 0);
    grad[i] = (fp - fm) / (2 * eps);
  }
  return grad;
}

describe('embeddingLookup', () => {
  it('returns the rows of the table, shaped like the ids plus the dimension', () => {
    tf.tidy(() => {
      const table = tf.tensor2d([0, 0, 1, 2, 3, 4], [3, 2]);
      const out = embeddingLookup(table, tf.tensor2d([2, 1, 2, 0], [2, 2], 'int32'));
      expect(out.shape).toEqual([2, 2, 2]);
      expect(Array.from(out.dataSync())).toEqual([3, 4, 1, 2, 3, 4, 0, 0]);
    });
  });

  it('matches a numerical gradient, summing the rows of duplicate ids', () => {
    const shape: [number, number] = [5, 3];
    const values = Float32Array.from({ length: 15 }, (_, i) => Math.sin(i + 1));
    const ids = [4, 1, 4, 4, 0, 2];
    const weights = Float32Array.from({ length: ids.length * 3 }, (_, i) => Math.cos(i));
    const f = (t: tf.Tensor2D): tf.Scalar =>
      tf.sum(tf.mul(tf.square(embeddingLookup(t, tf.tensor1d(ids, 'int32'))), tf.tensor2d(weights, [ids.length, 3])));
    const analytic = tf.tidy(() => tf.grad((t: tf.Tensor) => f(t as tf.Tensor2D))(tf.tensor2d(values, shape)).dataSync());
    const numeric = numericalGradient(f, values, shape);
    for (let i = 0; i < values.length; i++) expect(analytic[i]).toBeCloseTo(numeric[i] ?? 0, 2);
    // Row 3 is never looked up, row 4 three times.
    expect(Array.from(analytic.slice(9, 12))).toEqual([0, 0, 0]);
    expect(Math.abs(analytic[12] ?? 0)).toBeGreaterThan(0);
  });
});

describe('matMul with a transpose-free gradient', () => {
  it('matches the numerical gradient for both operands, 2-D and batched', () => {
    const aVals = Float32Array.from({ length: 6 }, (_, i) => Math.sin(i + 0.5));
    const bVals = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i + 0.3));
    const fa = (a: tf.Tensor2D): tf.Scalar => tf.sum(tf.square(matMul(a, tf.tensor2d(bVals, [3, 4]))));
    const fb = (b: tf.Tensor2D): tf.Scalar => tf.sum(tf.square(matMul(tf.tensor2d(aVals, [2, 3]), b)));
    const ga = tf.tidy(() => tf.grad((a: tf.Tensor) => fa(a as tf.Tensor2D))(tf.tensor2d(aVals, [2, 3])).dataSync());
    const gb = tf.tidy(() => tf.grad((b: tf.Tensor) => fb(b as tf.Tensor2D))(tf.tensor2d(bVals, [3, 4])).dataSync());
    numericalGradient(fa, aVals, [2, 3]).forEach((g, i) => expect(ga[i]).toBeCloseTo(g, 1));
    numericalGradient(fb, bVals, [3, 4]).forEach((g, i) => expect(gb[i]).toBeCloseTo(g, 1));

    const [g1, g2] = tf.tidy(() => {
      const x = tf.tensor3d(Float32Array.from({ length: 12 }, (_, i) => i / 7), [2, 2, 3]);
      const y = tf.tensor3d(Float32Array.from({ length: 18 }, (_, i) => 1 - i / 9), [2, 3, 3]);
      const ours = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(matMul(p as tf.Tensor3D, q as tf.Tensor3D))))([x, y]);
      // d/dp Σ(pq)² = 2(pq)qᵀ and d/dq = 2pᵀ(pq), written with the forward product only.
      const pq = tf.matMul(x, y);
      const ref = [tf.mul(tf.matMul(pq, y, false, true), 2), tf.mul(tf.matMul(x, pq, true, false), 2)];
      return [
        Math.max(...tf.abs(tf.sub(ours[0] as tf.Tensor, ref[0] as tf.Tensor)).dataSync()),
        Math.max(...tf.abs(tf.sub(ours[1] as tf.Tensor, ref[1] as tf.Tensor)).dataSync()),
      ];
    });
    expect(g1).toBeLessThan(1e-4);
    expect(g2).toBeLessThan(1e-4);
  });
});

describe('logitsAgainst: h·rowsᵀ with the rows gradient as dyᵀ·h', () => {
  it('matches the numerical gradient for both operands', () => {
    const hVals = Float32Array.from({ length: 6 }, (_, i) => Math.sin(i + 0.5));
    const rVals = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i + 0.3));
    const weights = tf.tensor2d(Float32Array.from({ length: 8 }, (_, i) => 1 + i / 3), [2, 4]);
    const fh = (h: tf.Tensor2D): tf.Scalar => tf.sum(tf.mul(tf.square(logitsAgainst(h, tf.tensor2d(rVals, [4, 3]))), weights));
    const fr = (r: tf.Tensor2D): tf.Scalar => tf.sum(tf.mul(tf.square(logitsAgainst(tf.tensor2d(hVals, [2, 3]), r)), weights));
    const gh = tf.tidy(() => tf.grad((h: tf.Tensor) => fh(h as tf.Tensor2D))(tf.tensor2d(hVals, [2, 3])).dataSync());
    const gr = tf.tidy(() => tf.grad((r: tf.Tensor) => fr(r as tf.Tensor2D))(tf.tensor2d(rVals, [4, 3])).dataSync());
    numericalGradient(fh, hVals, [2, 3]).forEach((g, i) => expect(gh[i]).toBeCloseTo(g, 1));
    numericalGradient(fr, rVals, [4, 3]).forEach((g, i) => expect(gr[i]).toBeCloseTo(g, 1));
    const ours = tf.tidy(() => logitsAgainst(tf.tensor2d(hVals, [2, 3]), tf.tensor2d(rVals, [4, 3])).dataSync());
    const reference = tf.tidy(() => tf.matMul(tf.tensor2d(hVals, [2, 3]), tf.tensor2d(rVals, [4, 3]), false, true).dataSync());
    reference.forEach((v, i) => expect(ours[i]).toBeCloseTo(v, 5));
    weights.dispose();
  });

  it('gives tf.gather’s rows with the row copy on and off, for a constant table and a variable one', () => {
    const values = Float32Array.from({ length: 40 * 8 }, (_, i) => Math.sin(i));
    const constant = tf.tensor2d(values, [40, 8]);
    markConstant(constant);
    const variable = tf.variable(tf.tensor2d(values, [40, 8]));
    const ids = tf.tensor2d(Int32Array.from({ length: 30 }, (_, i) => (i * 17) % 40), [5, 6], 'int32');
    const reference = Array.from(tf.gather(constant, tf.reshape(ids, [-1])).dataSync());
    for (const on of [true, false]) {
      useRowCopy(on);
      for (const table of [constant, variable]) expect(Array.from(tf.tidy(() => embeddingLookup(table, ids).dataSync()))).toEqual(reference);
    }
    useRowCopy(true);
    // A variable's lookup reads its current values, never a copy from before an update.
    variable.assign(tf.zerosLike(variable));
    expect(Math.max(...tf.tidy(() => embeddingLookup(variable, ids).dataSync()))).toBe(0);
  });

  it('refuses an id outside the table, naming it', () => {
    const table = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    expect(() => tf.tidy(() => embeddingLookup(table, tf.tensor1d([1, 2], 'int32')))).toThrow(/id 2 is outside the table's 2 rows/);
  });

  it('refuses to mark a variable as a constant', () => {
    expect(() => markConstant(tf.variable(tf.zeros([2, 2]), true, 'not-constant'))).toThrow(/variable/);
  });
});
