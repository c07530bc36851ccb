import * as tf from '@tensorflow/tfjs-core';
import type { AdaptationMethod, PreparedInput } from './adaptation/adaptation-method.js';
import { embeddingLookup } from './embedding-lookup.js';
import { logitsAgainst } from './matmul.js';
import type { SlotFilter } from './ranking-metrics.js';
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

/** What a batch adds to its logits beyond the model, each row-major [examples, candidates]. */
export interface LossExtras {
  /** The examples' co-visit memory at the candidates (see candidateMemory), weighted by the method's w. */
  memory?: Float32Array;
  /** The memory's weight in this loss instead of the method's own w: the gate compares candidate and live at one weight. */
  memoryWeight?: number;
  /** 1 where a candidate must not count as a negative for an example (see negativeMask). */
  mask?: Uint8Array;
}

/**
 * Which candidates are no negative for an example, row-major [examples, candidates], 1 = masked:
 * what `excluded(row)` says (the protocol's exclusion for its user: their items so far, which
 * ranking never offers them) and the other targets of the same user in the batch. A real log
 * books a user's clicks in bursts (MovieLens: dozens of ratings a session), so a batch holds
 * several of one user, and their other targets, in-batch negatives otherwise, are items they
 * chose: the loss would push down what the user likes, and most strongly what the co-visit
 * memory rightly ranks high. An example's own target column is never masked.
 */
export function negativeMask(examples: readonly { userId: string; target: number }[], candidates: CandidateSet, excluded: (row: number) => SlotFilter): Uint8Array {
  const columns = candidates.slots.length;
  const mask = new Uint8Array(examples.length * columns);
  const targetsOf = new Map<string, Set<number>>();
  for (const e of examples) {
    const own = targetsOf.get(e.userId) ?? new Set<number>();
    own.add(e.target);
    targetsOf.set(e.userId, own);
  }
  // A filter that lists its slots is walked instead of asked about every column (a user has seen
  // far fewer items than a batch has candidates): the column of each slot, -1 for none.
  let top = 0;
  for (const slot of candidates.slots) top = Math.max(top, slot);
  const columnOf = new Int32Array(top + 1).fill(-1);
  candidates.slots.forEach((slot, c) => (columnOf[slot] = c));
  examples.forEach((e, row) => {
    const seen = excluded(row);
    const sameUser = targetsOf.get(e.userId) as Set<number>;
    const ownColumn = candidates.targetColumns[row];
    if (seen.forEach !== undefined) {
      const maskSlot = (slot: number): void => {
        const c = slot >= 0 && slot < columnOf.length ? (columnOf[slot] as number) : -1;
        if (c >= 0 && c !== ownColumn) mask[row * columns + c] = 1;
      };
      seen.forEach(maskSlot);
      sameUser.forEach(maskSlot);
      return;
    }
    for (let c = 0; c < columns; c++) {
      if (c === ownColumn) continue;
      const slot = candidates.slots[c] as number;
      if (seen.has(slot) || sameUser.has(slot)) mask[row * columns + c] = 1;
    }
  });
  return mask;
}

/** A logit no softmax weight survives, kept finite so no gradient turns into NaN. */
const MASKED_LOGIT = -1e9;

/**
 * The mask as logit offsets (0 or MASKED_LOGIT), in a plain loop: with `Float32Array.from` and a
 * map function the ladder trained 936 clicks/s end to end in `npm run bench:train`, 1,644 with this.
 */
function maskedLogits(mask: Uint8Array): Float32Array {
  const out = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out[i] = MASKED_LOGIT;
  return out;
}

/**
 * Sampled softmax: each example's target against the shared candidate set, scored exactly as
 * ranking scores them (h' · E'_i + b_i, plus w · m with the co-visit memory), so training and
 * ranking optimise the same function; masked candidates are left out of an example's softmax.
 * Call inside `minimize` or `tidy`.
 */
export function sampledSoftmaxLoss(method: AdaptationMethod, input: PreparedInput, candidates: CandidateSet, extras: LossExtras = {}): tf.Scalar {
  return sampledSoftmaxLossAt(method, method.userState(input), candidates, extras);
}

/** The same loss from user states [B, d] already computed by `method.userState`. */
export function sampledSoftmaxLossAt(method: AdaptationMethod, h: tf.Tensor2D, candidates: CandidateSet, extras: LossExtras = {}): tf.Scalar {
  const slots = tf.tensor1d(candidates.slots, 'int32');
  const rows = embeddingLookup(method.itemTable(), slots) as tf.Tensor2D;
  const bias = tf.reshape(embeddingLookup(tf.reshape(method.itemBias(), [-1, 1]), slots), [-1]);
  const shape: [number, number] = [h.shape[0], candidates.slots.length];
  let logits = tf.add<tf.Tensor2D>(logitsAgainst(h, rows), bias);
  if (extras.memory !== undefined) logits = tf.add(logits, tf.mul(tf.tensor2d(extras.memory, shape), extras.memoryWeight ?? method.coVisitWeight()));
  if (extras.mask !== undefined) logits = tf.add(logits, tf.tensor2d(maskedLogits(extras.mask), shape));
  return softmaxCrossEntropy(logits, tf.tensor1d(candidates.targetColumns, 'int32'));
}
