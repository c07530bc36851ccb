import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from './backbone.js';
import { PAD_ID } from './backbone-config.js';
import { matMul } from './matmul.js';

/**
 * Scores of every vocabulary slot for each history (h · E^T at the last position): the frozen
 * backbone as the evaluation protocol's batch ranker, with no adaptation.
 */
export function backboneRanker(backbone: Backbone) {
  const { maxLen } = backbone.config;
  return (histories: readonly (readonly number[])[]): Float32Array[] => {
    const n = histories.length;
    const ids = new Int32Array(n * maxLen).fill(PAD_ID);
    histories.forEach((history, row) => {
      const h = history.slice(-maxLen);
      ids.set(h, row * maxLen + maxLen - h.length);
    });
    const scores = tf.tidy(() => {
      const h = backbone.lastStates(tf.tensor2d(ids, [n, maxLen], 'int32')).userState;
      return matMul(h, tf.transpose(backbone.weight('item_embedding') as tf.Tensor2D));
    });
    const data = scores.dataSync() as Float32Array;
    scores.dispose();
    const v = data.length / Math.max(n, 1);
    return histories.map((_, row) => data.slice(row * v, (row + 1) * v));
  };
}
