import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@reco/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import type { BackboneConfig } from './backbone-config.js';
import { matMul } from './matmul.js';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

function random(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.next() * 2 - 1), shape);
}

const largest = (x: tf.Tensor, y: tf.Tensor): number => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0] as number;

describe('matMul gradients', () => {
  it('follow the closed forms for both operands, with and without TF.js’s transpose flags', () => {
    const w = random([6, 7], 3);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = random(ta ? [5, 6] : [6, 5], 1);
      const b = random(tb ? [7, 5] : [5, 7], 2);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), w)))([a, b]);
      const opA = ta ? tf.transpose(a) : a;
      const opB = tb ? tf.transpose(b) : b;
      // d/d op(A) = w·op(B)ᵀ, d/d op(B) = op(A)ᵀ·w, transposed back where the operand was.
      const dOpA = tf.matMul(w, tf.transpose(opB));
      const dOpB = tf.matMul(tf.transpose(opA), w);
      expect(largest(ga as tf.Tensor, ta ? tf.transpose(dOpA) : dOpA), `transposeA ${ta} transposeB ${tb}`).toBeLessThan(1e-5);
      expect(largest(gb as tf.Tensor, tb ? tf.transpose(dOpB) : dOpB), `transposeA ${ta} transposeB ${tb}`).toBeLessThan(1e-5);
    }
    const a = random([6, 5], 1);
    const b = random([5, 7], 2);
    expect(largest(matMul(a, b), tf.matMul(a, b))).toBeLessThan(1e-6);
  });

  it('leaves a modifier’s gradient through a frozen backbone as it is through a trainable one', () => {
    const config: BackboneConfig = { numItems: 30, dim: 16, blocks: 2, heads: 2, maxLen: 8, ffnDim: 32, layerNormEpsilon: 1e-5 };
    const frozen = Backbone.random(config, createRng(7));
    const trainable = Backbone.random(config, createRng(7), { trainable: true });
    const ids = tf.tensor2d([[0, 0, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]], undefined, 'int32');
    const target = random([2, 16], 4);
    // Biases shifted in block 0, so the gradient runs back through block 1's (constant) products.
    const shift = tf.variable(tf.zeros([16]), true, 'shift');
    const gradientThrough = (backbone: Backbone): tf.Tensor => {
      const { grads } = tf.variableGrads(() => {
        const states = backbone.lastStates(ids, { weight: (name, base) => (name.startsWith('block0.') && name.endsWith('.bq') ? tf.add(base, shift) : base) });
        return tf.sum<tf.Scalar>(tf.mul(states.userState, target));
      }, [shift]);
      return grads.shift as tf.Tensor;
    };
    const viaFrozen = gradientThrough(frozen);
    const viaTrainable = gradientThrough(trainable);
    expect(tf.max(tf.abs(viaTrainable)).dataSync()[0]).toBeGreaterThan(1e-4);
    expect(largest(viaFrozen, viaTrainable)).toBeLessThan(1e-6);
  });
});
