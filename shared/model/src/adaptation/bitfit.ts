import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import { AdaptationBase } from './adaptation-base.js';
import type { PreparedInput } from './adaptation-method.js';

/**
 * BitFit: a trainable delta on every bias of the backbone (attention and feed-forward biases,
 * LayerNorm betas), applied as base + delta through the forward's weight hook. Deltas start at
 * zero, so x + 0 leaves every activation, and the scores, exactly as the frozen backbone's.
 */
export class BitFitMethod extends AdaptationBase {
  readonly name = 'bitfit' as const;
  private readonly targets: Set<string>;

  constructor(backbone: Backbone, catalogue: ItemCatalogue) {
    super(backbone, catalogue);
    this.targets = new Set(backbone.specs.filter((s) => s.kind === 'bias' || s.kind === 'beta').map((s) => s.name));
    for (const spec of backbone.specs) if (this.targets.has(spec.name)) this.addVariable(`bitfit.${spec.name}`, tf.zeros(spec.shape));
  }

  options(): Record<string, number> {
    return {};
  }

  userState(input: PreparedInput): tf.Tensor2D {
    return this.backboneState(input, {
      weight: (name, base) => (this.targets.has(name) ? tf.add(base, this.variable(`bitfit.${name}`)) : base),
    });
  }
}
