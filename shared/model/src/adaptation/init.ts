import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@reco/data';

/**
 * Seeded initialisers for adaptation parameters, drawn on the JS side so a seed gives the same
 * starting point on every backend. Only down-projections and LoRA's A are random; everything
 * that would change the scores at step 0 starts at zero (see each method).
 */
export function glorotUniform(shape: [number, number], rng: Rng): tf.Tensor2D {
  const [fanIn, fanOut] = shape;
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < values.length; i++) values[i] = (rng.next() * 2 - 1) * limit;
  return tf.tensor2d(values, shape);
}

/** Kaiming-uniform with a = sqrt(5), as LoRA initialises A (via nn.Linear's default). */
export function kaimingUniform(shape: [number, number], rng: Rng): tf.Tensor2D {
  const limit = 1 / Math.sqrt(shape[0]);
  const values = new Float32Array(shape[0] * shape[1]);
  for (let i = 0; i < values.length; i++) values[i] = (rng.next() * 2 - 1) * limit;
  return tf.tensor2d(values, shape);
}
