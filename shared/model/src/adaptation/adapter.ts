import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@reco/data';
import type { Backbone } from '../backbone.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import { matMul } from '../matmul.js';
import { AdaptationBase } from './adaptation-base.js';
import type { PreparedInput } from './adaptation-method.js';
import { glorotUniform } from './init.js';

export interface AdapterOptions {
  /** Bottleneck width; default d / 8. */
  bottleneck?: number;
  rng: Rng;
}

/**
 * Houlsby adapters: a bottleneck y + up(gelu(down(y))) on the output of the attention sublayer
 * and of the feed-forward sublayer of every block, before the residual add. `up` (weights and
 * bias) starts at zero, so each adapter returns y + 0 = y exactly and the scores are unchanged.
 */
export class AdapterMethod extends AdaptationBase {
  readonly name = 'adapter' as const;
  readonly bottleneck: number;

  constructor(backbone: Backbone, catalogue: ItemCatalogue, options: AdapterOptions) {
    super(backbone, catalogue);
    const d = backbone.config.dim;
    this.bottleneck = options.bottleneck ?? Math.max(1, Math.round(d / 8));
    for (let b = 0; b < backbone.config.blocks; b++) {
      for (const site of ['attn', 'ffn']) {
        const p = `adapter.block${b}.${site}`;
        this.addVariable(`${p}.down`, glorotUniform([d, this.bottleneck], options.rng));
        this.addVariable(`${p}.down_bias`, tf.zeros([this.bottleneck]));
        this.addVariable(`${p}.up`, tf.zeros([this.bottleneck, d]));
        this.addVariable(`${p}.up_bias`, tf.zeros([d]));
      }
    }
  }

  options(): Record<string, number> {
    return { bottleneck: this.bottleneck };
  }

  private adapt(prefix: string, y: tf.Tensor2D): tf.Tensor2D {
    const hidden = tf.add(matMul(y, this.variable(`${prefix}.down`) as tf.Tensor2D), this.variable(`${prefix}.down_bias`));
    const act = tf.mul<tf.Tensor2D>(hidden, tf.sigmoid(tf.mul(hidden, 1.702)));
    const out = tf.add(matMul(act, this.variable(`${prefix}.up`) as tf.Tensor2D), this.variable(`${prefix}.up_bias`));
    return tf.add<tf.Tensor2D>(y, out);
  }

  userState(input: PreparedInput): tf.Tensor2D {
    return this.backboneState(input, {
      attentionOutput: (block, y) => this.adapt(`adapter.block${block}.attn`, y),
      ffnOutput: (block, y) => this.adapt(`adapter.block${block}.ffn`, y),
    });
  }
}
