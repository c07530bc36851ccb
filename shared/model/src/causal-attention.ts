import * as tf from '@tensorflow/tfjs-core';
import { matMul } from './matmul.js';

/** Projection weights of one attention layer, already passed through the modifiers. */
export interface AttentionWeights {
  wq: tf.Tensor;
  bq: tf.Tensor;
  wk: tf.Tensor;
  bk: tf.Tensor;
  wv: tf.Tensor;
  bv: tf.Tensor;
  wo: tf.Tensor;
  bo: tf.Tensor;
}

/** Keys and values of the soft-prompt stream at this block, with the per-head gate. */
export interface PromptMemory {
  keys: tf.Tensor2D;
  values: tf.Tensor2D;
  gate: tf.Tensor1D;
}

/** A large negative rather than -Infinity: a fully masked (all padding) row stays finite. */
const MASKED = -1e9;

/**
 * Additive attention mask [B, 1, L, L]: query i may attend key j iff j <= i and j is not padding.
 */
export function causalPaddingMask(ids: tf.Tensor2D, padId: number): tf.Tensor4D {
  const [batch, len] = ids.shape;
  const causal = tf.linalg.bandPart(tf.ones([len, len]), -1, 0);
  const notPad = tf.cast(tf.notEqual(ids, padId), 'float32');
  const allowed = tf.mul(causal, tf.reshape(notPad, [batch, 1, 1, len]));
  return tf.mul<tf.Tensor4D>(tf.sub(1, allowed), MASKED);
}

function splitHeads(x: tf.Tensor2D, batch: number, len: number, heads: number): tf.Tensor3D {
  const dh = x.shape[1] / heads;
  const t = tf.transpose(tf.reshape(x, [batch, len, heads, dh]), [0, 2, 1, 3]);
  return tf.reshape(t, [batch * heads, len, dh]);
}

/** The last position's row of each sequence in x [B*L, d]: [B, d]. */
export function lastRows(x: tf.Tensor2D, batch: number, len: number): tf.Tensor2D {
  const d = x.shape[1];
  return tf.reshape(tf.slice(tf.reshape(x, [batch, len, d]), [0, len - 1, 0], [batch, 1, d]), [batch, d]);
}

/**
 * Multi-head self-attention over a normalised sequence x [B*L, d] (rows = positions).
 * Returns the output projection [B*L, d]. With `prompt`, every position additionally attends
 * to the prompt's keys in a separate softmax whose result is added per head after scaling by
 * tanh(gate): a second softmax rather than extra keys in the first one, because extra keys
 * would change the normalisation of the original attention even with a closed gate.
 * With `lastQueryOnly` only each sequence's last position asks (keys and values still come from
 * every position), and the output is [B, d]: all a user state needs from the last block.
 */
export function multiHeadAttention(
  x: tf.Tensor2D,
  batch: number,
  len: number,
  heads: number,
  w: AttentionWeights,
  mask: tf.Tensor4D,
  prompt?: PromptMemory,
  lastQueryOnly = false,
): tf.Tensor2D {
  const d = x.shape[1];
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const queries = lastQueryOnly ? 1 : len;
  const xq = lastQueryOnly ? lastRows(x, batch, len) : x;
  const q2 = tf.add<tf.Tensor2D>(matMul(xq, w.wq as tf.Tensor2D), w.bq);
  const k2 = tf.add<tf.Tensor2D>(matMul(x, w.wk as tf.Tensor2D), w.bk);
  const v2 = tf.add<tf.Tensor2D>(matMul(x, w.wv as tf.Tensor2D), w.bv);
  const q = splitHeads(q2, batch, queries, heads);
  const k = splitHeads(k2, batch, len, heads);
  const v = splitHeads(v2, batch, len, heads);

  // The mask's rows are queries: the last query keeps only its own row.
  const queryMask = lastQueryOnly ? tf.slice(mask, [0, 0, len - 1, 0], [batch, 1, 1, len]) : mask;
  const logits = tf.reshape(tf.mul(matMul(q, tf.transpose(k, [0, 2, 1])), scale), [batch, heads, queries, len]);
  const probs = tf.reshape<tf.Rank.R3>(tf.softmax(tf.add(logits, queryMask)), [batch * heads, queries, len]);
  let context = tf.reshape(matMul(probs, v), [batch, heads, queries, dh]);

  if (prompt !== undefined) {
    const p = prompt.keys.shape[0];
    // Queries grouped per head: [H, B*Q, dh]; prompt keys/values per head: [H, P, dh].
    const qh = tf.reshape(tf.transpose(tf.reshape(q, [batch, heads, queries, dh]), [1, 0, 2, 3]), [heads, batch * queries, dh]);
    const kp = tf.transpose<tf.Tensor3D>(tf.reshape(prompt.keys, [p, heads, dh]), [1, 2, 0]);
    const vp = tf.transpose<tf.Tensor3D>(tf.reshape(prompt.values, [p, heads, dh]), [1, 0, 2]);
    const pProbs = tf.softmax(tf.mul(matMul(qh as tf.Tensor3D, kp), scale)) as tf.Tensor3D;
    const pContext = tf.mul(matMul(pProbs, vp), tf.reshape(tf.tanh(prompt.gate), [heads, 1, 1]));
    context = tf.add(context, tf.transpose(tf.reshape(pContext, [heads, batch, queries, dh]), [1, 0, 2, 3]));
  }

  const merged = tf.reshape<tf.Rank.R2>(tf.transpose(context, [0, 2, 1, 3]), [batch * queries, d]);
  return tf.add<tf.Tensor2D>(matMul(merged, w.wo as tf.Tensor2D), w.bo);
}
