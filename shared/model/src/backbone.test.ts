import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import type { BackboneModifiers } from './backbone-modifiers.js';
import { lastRows } from './causal-attention.js';

const config = { numItems: 30, dim: 8, blocks: 3, heads: 2, maxLen: 6, ffnDim: 16, layerNormEpsilon: 1e-5 };
let backbone: Backbone;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  backbone = Backbone.random(config, createRng(3));
});

afterAll(() => backbone.dispose());

/** Max |forward's last rows - lastStates| over the user state and every block output. */
function lastStatesGap(modifiers: () => BackboneModifiers): number {
  return tf.tidy(() => {
    // Padding on the left of some rows, a full row, and one with a single item.
    const ids = tf.tensor2d([0, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 12, 0, 13, 14, 15, 16, 17], [4, 6], 'int32');
    const full = backbone.forward(ids, modifiers());
    const last = backbone.lastStates(ids, modifiers());
    const rowsOf = (x: tf.Tensor3D) => lastRows(tf.reshape(x, [4 * 6, config.dim]), 4, 6);
    const pairs: [tf.Tensor, tf.Tensor][] = [[rowsOf(full.hidden), last.userState], ...full.blockOutputs.map((x, b): [tf.Tensor, tf.Tensor] => [rowsOf(x), last.blockOutputs[b] as tf.Tensor])];
    expect(last.blockOutputs).toHaveLength(config.blocks);
    for (const [, l] of pairs) expect(l.shape).toEqual([4, config.dim]);
    return Math.max(...pairs.map(([a, b]) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number));
  });
}

describe('Backbone.lastStates', () => {
  it("equals the full forward's last position, with and without every kind of modifier", () => {
    expect(lastStatesGap(() => ({}))).toBeLessThan(1e-5);
    const rng = createRng(9);
    const noise = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.3), shape);
    const scale = noise([config.dim]);
    const shift = noise([config.dim]);
    const vectors = noise([3, config.dim]) as tf.Tensor2D;
    const gates = Array.from({ length: config.blocks }, () => noise([config.heads]) as tf.Tensor1D);
    const modified = (): BackboneModifiers => ({
      weight: (name, base) => (name.endsWith('attn.wq') || name.endsWith('ffn.b1') ? tf.add(base, 0.05) : base),
      embeddingOutput: (x) => tf.mul(x, 1.1),
      attentionOutput: (_b, y) => tf.add(tf.mul(y, scale), shift),
      ffnOutput: (b, y) => tf.mul(y, 1 + b / 10),
      prompt: { vectors, gates },
    });
    expect(lastStatesGap(modified)).toBeLessThan(1e-5);
    tf.dispose([scale, shift, vectors, ...gates]);
  });
});
