import type * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import { AdaptationBase } from './adaptation-base.js';
import type { PreparedInput } from './adaptation-method.js';

/**
 * Baseline: the pretrained backbone as is. Nothing is trained, not even the shared side table
 * and bias: "frozen" is the reference for what adaptation buys, so it must not learn popularity
 * or new items either. Its side parameters exist (all zero) only so its scores have the same
 * slots as every other method's; a new item therefore scores exactly 0 under frozen.
 */
export class FrozenMethod extends AdaptationBase {
  readonly name = 'frozen' as const;

  constructor(backbone: Backbone, catalogue: ItemCatalogue) {
    super(backbone, catalogue, false);
  }

  options(): Record<string, number> {
    return {};
  }

  userState(input: PreparedInput): tf.Tensor2D {
    return this.backboneState(input);
  }
}
