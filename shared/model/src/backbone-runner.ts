import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from './backbone.js';
import type { SequenceBatch } from './sequence-batch.js';

/** What the frozen backbone tells the ladder about a batch, as plain row-major [B, d] arrays. */
export interface BackboneRunOutput {
  batchSize: number;
  dim: number;
  /** Final-LayerNorm output at the last position: the user state h. */
  userState: Float32Array;
  /** Each block's residual output at the last position, block 0 first. */
  blockOutputs: Float32Array[];
}

/**
 * The frozen backbone as an inference-only function. This is the seam for a faster engine:
 * an ONNX Runtime implementation takes the same int32 batch and returns the same arrays, and the
 * ladder side network (which only ever sees these arrays) cannot tell the difference.
 */
export interface BackboneRunner {
  readonly dim: number;
  readonly blocks: number;
  readonly maxLen: number;
  run(batch: SequenceBatch): Promise<BackboneRunOutput>;
  dispose(): void;
}

/**
 * TF.js implementation. The forward runs in a plain `tf.tidy` outside any `minimize`/`grad`
 * call, so no gradient tape records it, and the results leave TF.js as typed arrays: whatever
 * the caller does with them, no gradient can flow back into the backbone.
 */
export class TfjsBackboneRunner implements BackboneRunner {
  readonly dim: number;
  readonly blocks: number;
  readonly maxLen: number;

  constructor(private readonly backbone: Backbone) {
    this.dim = backbone.config.dim;
    this.blocks = backbone.config.blocks;
    this.maxLen = backbone.config.maxLen;
  }

  async run(batch: SequenceBatch): Promise<BackboneRunOutput> {
    if (batch.maxLen !== this.maxLen) throw new Error(`runner expects sequences of length ${this.maxLen}, got ${batch.maxLen}`);
    const { batchSize } = batch;
    const outputs = tf.tidy(() => {
      const ids = tf.tensor2d(batch.ids, [batchSize, batch.maxLen], 'int32');
      const { userState, blockOutputs } = this.backbone.lastStates(ids, {}, { releaseIntermediates: true });
      return [userState, ...blockOutputs];
    });
    try {
      const arrays = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
      const [userState, ...blockOutputs] = arrays as [Float32Array, ...Float32Array[]];
      return { batchSize, dim: this.dim, userState, blockOutputs };
    } finally {
      for (const t of outputs) t.dispose();
    }
  }

  /** The runner borrows the backbone; whoever loaded it disposes it. */
  dispose(): void {}
}
