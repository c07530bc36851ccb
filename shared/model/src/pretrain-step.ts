import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from './backbone.js';
import type { Rng } from '@reco/data';
import type { BackboneModifiers } from './backbone-modifiers.js';
import { dropout } from './dropout.js';
import { embeddingLookup } from './embedding-lookup.js';
import { logitsAgainst } from './matmul.js';
import { softmaxCrossEntropy } from './softmax-cross-entropy.js';

/**
 * One pretraining batch as plain arrays, so that it can be cut into shards and sent to another
 * thread: left-padded windows [rows, maxLen], each position's label and weight (0 = padding).
 */
export interface PretrainBatch {
  rows: number;
  maxLen: number;
  ids: Int32Array;
  /** Each position's logit column: its target's slot (full softmax) or its column among `candidates`. */
  labels: Int32Array;
  weights: Float32Array;
  /** The sampled softmax's candidate slots, every shard's columns; null for the full softmax. */
  candidates: Int32Array | null;
}

/** A batch's loss (weighted mean) and its gradient per variable name; `weight` is Σ weights. */
export interface BatchGradients {
  loss: number;
  weight: number;
  grads: tf.NamedTensorMap;
}

/** Pretraining's regulariser: dropout on the embeddings and on each sublayer's output. */
export function dropoutModifiers(rate: number, rng: Rng): BackboneModifiers {
  return {
    embeddingOutput: (x) => dropout(x, rate, rng),
    attentionOutput: (_b, y) => dropout(y, rate, rng),
    ffnOutput: (_b, y) => dropout(y, rate, rng),
  };
}

/** Rows [from, to) of a batch, with the same candidates. */
export function batchRows(batch: PretrainBatch, from: number, to: number): PretrainBatch {
  const a = from * batch.maxLen;
  const b = to * batch.maxLen;
  return { rows: to - from, maxLen: batch.maxLen, ids: batch.ids.subarray(a, b), labels: batch.labels.subarray(a, b), weights: batch.weights.subarray(a, b), candidates: batch.candidates };
}

/**
 * The SASRec objective on one batch: every non-padding position predicts its label, softmax over
 * the candidates (or the whole table), tied item embeddings. Padding positions are dropped before
 * the logits: they weigh 0, and on MovieLens windows they are a fifth of the [positions x
 * candidates] matrix, the costliest part of a step. `modifiers` is the training-time dropout.
 */
export function batchGradients(backbone: Backbone, batch: PretrainBatch, modifiers: BackboneModifiers): BatchGradients {
  const active: number[] = [];
  let weight = 0;
  for (let i = 0; i < batch.weights.length; i++) {
    const w = batch.weights[i] ?? 0;
    if (w > 0) {
      active.push(i);
      weight += w;
    }
  }
  if (active.length === 0) return { loss: 0, weight: 0, grads: {} };
  const { dim } = backbone.config;
  const result = tf.tidy(() => {
    const ids = tf.tensor2d(batch.ids, [batch.rows, batch.maxLen], 'int32');
    const at = tf.tensor1d(Int32Array.from(active), 'int32');
    const labels = tf.tensor1d(Int32Array.from(active, (i) => batch.labels[i] ?? 0), 'int32');
    const weights = tf.tensor1d(Float32Array.from(active, (i) => batch.weights[i] ?? 0));
    const candidates = batch.candidates === null ? null : tf.tensor1d(batch.candidates, 'int32');
    return tf.variableGrads(() => {
      const { hidden } = backbone.forward(ids, modifiers);
      const h = embeddingLookup(tf.reshape<tf.Rank.R2>(hidden, [batch.rows * batch.maxLen, dim]), at) as tf.Tensor2D;
      const table = backbone.weight('item_embedding') as tf.Tensor2D;
      const columns = candidates === null ? table : (embeddingLookup(table, candidates) as tf.Tensor2D);
      return softmaxCrossEntropy(logitsAgainst(h, columns), labels, weights);
    }, backbone.variables());
  });
  const loss = (result.value.dataSync()[0]) ?? Number.NaN;
  result.value.dispose();
  return { loss, weight, grads: result.grads };
}
