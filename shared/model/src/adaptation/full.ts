import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import { AdaptationBase } from './adaptation-base.js';
import type { PreparedInput } from './adaptation-method.js';

/**
 * Baseline: full fine-tuning. Every backbone weight gets a trainable copy that the forward uses
 * in place of the original (through the weight hook), so the loaded backbone's tensors are never
 * written: several methods can share one backbone and serving's copy stays what it loaded.
 * The copies start equal to the originals, so the scores start identical.
 */
export class FullFineTuneMethod extends AdaptationBase {
  readonly name = 'full' as const;

  constructor(backbone: Backbone, catalogue: ItemCatalogue) {
    super(backbone, catalogue);
    for (const name of backbone.weightNames()) this.addVariable(`full.${name}`, tf.clone(backbone.weight(name)));
  }

  options(): Record<string, number> {
    return {};
  }

  protected override backboneItemTable(): tf.Tensor2D {
    return this.variable('full.item_embedding') as tf.Tensor2D;
  }

  userState(input: PreparedInput): tf.Tensor2D {
    return this.backboneState(input, { weight: (name) => this.variable(`full.${name}`) });
  }
}
