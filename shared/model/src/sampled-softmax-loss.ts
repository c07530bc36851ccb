import * as tf from '@tensorflow/tfjs-core';
import type { AdaptationMethod, PreparedInput } from './adaptation/adaptation-method.js';
import { embeddingLookup } from './embedding-lookup.js';
import { matMul } from './matmul.js';
import { softmaxCrossEntropy } from './softmax-cross-entropy.js';

/**
 * Candidates for one batch: the batch's distinct targets (in-batch negatives for each other)
 * followed by negatives sampled from the catalogue, and each row's target column.
 */
export interface CandidateSet {
  slots: Int32Array;
  targetColumns: Int32Array;
}

/**
 * `weights`, when given, marks rows that count (pretraining's padded positions weigh 0): their
 * targets get no column of their own, and their column (0) is never read by a weighted loss.
 */
export function candidateSet(targets: ArrayLike<number>, negatives: Int32Array, weights?: ArrayLike<number>): CandidateSet {
  const column = new Map<number, number>();
  const slots: number[] = [];
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i] as number;
    if (weights !== undefined && !((weights[i] ?? 0) > 0)) continue;
    if (!column.has(t)) {
      column.set(t, slots.length);
      slots.push(t);
    }
  }
  for (const n of negatives) {
    if (!column.has(n)) {
      column.set(n, slots.length);
      slots.push(n);
    }
  }
  return { slots: Int32Array.from(slots), targetColumns: Int32Array.from(targets, (t) => column.get(t) ?? 0) };
}

/**
 * Sampled softmax: each example's target against the shared candidate set, scored exactly as
 * `scores()` would (h' · E'_i + b_i), so training and ranking optimise the same function.
 * Call inside `minimize` or `tidy`.
 */
export function sampledSoftmaxLoss(method: AdaptationMethod, input: PreparedInput, candidates: CandidateSet): tf.Scalar {
  const h = method.userState(input);
  const slots = tf.tensor1d(candidates.slots, 'int32');
  const rows = embeddingLookup(method.itemTable(), slots) as tf.Tensor2D;
  const bias = tf.reshape(embeddingLookup(tf.reshape(method.itemBias(), [-1, 1]), slots), [-1]);
  const logits = tf.add<tf.Tensor2D>(matMul(h, tf.transpose(rows)), bias);
  return softmaxCrossEntropy(logits, tf.tensor1d(candidates.targetColumns, 'int32'));
}
