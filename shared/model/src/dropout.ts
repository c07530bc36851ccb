import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@reco/data';

/**
 * Inverted dropout with a mask drawn from the caller's seeded Rng, so a pretraining run is
 * reproducible on every backend. (`tf.dropout` takes one seed per call, and the same seed would
 * drop the same units at every step.) The mask is a constant to the gradient tape, as it should be.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng): T {
  if (rate <= 0) return x;
  if (!(rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  const keep = 1 - rate;
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keep ? 1 / keep : 0;
  return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
}
