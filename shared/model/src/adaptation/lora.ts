import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@reco/data';
import type { Backbone } from '../backbone.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import { matMul } from '../matmul.js';
import { AdaptationBase } from './adaptation-base.js';
import type { PreparedInput } from './adaptation-method.js';
import { kaimingUniform } from './init.js';

export interface LoraOptions {
  rank?: number;
  alpha?: number;
  rng: Rng;
}

const TARGET = /\.(attn\.w[qkvo]|ffn\.w[12])$/;

/**
 * LoRA on the attention projections (Q, K, V, O) and both feed-forward matrices of every block:
 * W' = W + (alpha / rank) · A · B with A [in, r] random and B [r, out] zero, so W' = W exactly at
 * start. The delta is formed as a [in, out] matrix once per forward rather than applied as x·A·B:
 * at d = 64 the small product is cheaper than two extra passes over every position.
 */
export class LoraMethod extends AdaptationBase {
  readonly name = 'lora' as const;
  readonly rank: number;
  readonly alpha: number;
  private readonly targets: string[];

  constructor(backbone: Backbone, catalogue: ItemCatalogue, options: LoraOptions) {
    super(backbone, catalogue);
    this.rank = options.rank ?? 4;
    this.alpha = options.alpha ?? 8;
    if (!Number.isInteger(this.rank) || this.rank < 1) throw new RangeError(`LoRA rank must be a positive integer, got ${this.rank}`);
    this.targets = backbone.specs.filter((s) => TARGET.test(s.name)).map((s) => s.name);
    for (const spec of backbone.specs) {
      if (!TARGET.test(spec.name)) continue;
      const [fanIn = 1, fanOut = 1] = spec.shape;
      this.addVariable(`lora.${spec.name}.A`, kaimingUniform([fanIn, this.rank], options.rng));
      this.addVariable(`lora.${spec.name}.B`, tf.zeros([this.rank, fanOut]));
    }
  }

  options(): Record<string, number> {
    return { rank: this.rank, alpha: this.alpha };
  }

  /** Names of the adapted backbone matrices. */
  targetWeights(): string[] {
    return [...this.targets];
  }

  userState(input: PreparedInput): tf.Tensor2D {
    const scale = this.alpha / this.rank;
    return this.backboneState(input, {
      weight: (name, base) => {
        if (!TARGET.test(name)) return base;
        const delta = matMul(this.variable(`lora.${name}.A`) as tf.Tensor2D, this.variable(`lora.${name}.B`) as tf.Tensor2D);
        return tf.add(base, tf.mul(delta, scale));
      },
    });
  }
}
