import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdaptationMethod } from './adaptation/adaptation-method.js';
import { initBackend } from './backend.js';
import { candidateSet, sampledSoftmaxLossAt } from './sampled-softmax-loss.js';

beforeAll(async () => {
  await initBackend({ preferred: 'cpu' });
});

/** Only what the loss reads of a method: the item table, the item bias and the memory weight. */
function scoringOnly(table: number[][], bias: number[], weight = 0): AdaptationMethod {
  const t = tf.tensor2d(table);
  const b = tf.tensor1d(bias);
  const w = tf.tensor1d([weight]);
  return { itemTable: () => t, itemBias: () => b, coVisitWeight: () => w } as unknown as AdaptationMethod;
}

/** Mean over rows of -log softmax(target) over the columns each row keeps, by hand. */
function byHand(logits: number[][], targets: number[], kept: (row: number, column: number) => boolean): number {
  let sum = 0;
  logits.forEach((row, r) => {
    const z = row.filter((_, c) => kept(r, c)).map(Math.exp).reduce((a, b) => a + b, 0);
    sum += -Math.log(Math.exp(row[targets[r] as number] as number) / z);
  });
  return sum / logits.length;
}

describe('sampledSoftmaxLossAt', () => {
  // Slots 0..3: user states h pick out coordinates, so each logit is a table entry plus its bias.
  const table = [
    [0.1, 0.5],
    [0.9, -0.3],
    [-0.4, 0.8],
    [0.3, 0.2],
  ];
  const bias = [0, 0.2, -0.1, 0.05];
  const h = [
    [1, 0],
    [0, 1],
  ];
  const candidates = candidateSet([1, 2], Int32Array.from([0, 3]));
  // columns: slots 1, 2, 0, 3
  const logits = h.map((row) => [...candidates.slots].map((s) => (row[0] as number) * (table[s]?.[0] as number) + (row[1] as number) * (table[s]?.[1] as number) + (bias[s] as number)));

  it('is the softmax cross-entropy of each target against the shared candidates', () => {
    const loss = tf.tidy(() => sampledSoftmaxLossAt(scoringOnly(table, bias), tf.tensor2d(h), candidates).dataSync()[0]);
    expect(loss).toBeCloseTo(byHand(logits, [...candidates.targetColumns], () => true), 5);
  });

  it('leaves masked candidates out of a row’s softmax, and only that row’s', () => {
    // Row 0 masks column 3 (slot 3); row 1 masks column 0 (slot 1, the other row's target).
    const mask = Uint8Array.from([0, 0, 0, 1, 1, 0, 0, 0]);
    const loss = tf.tidy(() => sampledSoftmaxLossAt(scoringOnly(table, bias), tf.tensor2d(h), candidates, { mask }).dataSync()[0]);
    expect(loss).toBeCloseTo(byHand(logits, [...candidates.targetColumns], (r, c) => mask[r * 4 + c] === 0), 5);
    expect(loss).not.toBeCloseTo(byHand(logits, [...candidates.targetColumns], () => true), 3);
  });
});
