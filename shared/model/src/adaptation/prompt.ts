import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@reco/data';
import type { Backbone } from '../backbone.js';
import { FIRST_ITEM_ID } from '../backbone-config.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import { AdaptationBase } from './adaptation-base.js';
import type { PreparedInput } from './adaptation-method.js';

export interface PromptOptions {
  /** Soft-prompt vectors before every sequence; default 4. */
  length?: number;
  rng: Rng;
}

/**
 * Prompt tuning: P learned vectors placed before every sequence. Why identity at start needs
 * care: simply prepending keys would change every softmax normalisation even if the prompt's
 * values were zero. So the items read the prompt through a second attention whose output is
 * scaled per block and head by tanh(gate) with gate = 0 at start (zero-init attention, as in
 * LLaMA-Adapter): x + 0 is exactly x, while d/dgate is not zero, so the first steps open it.
 * The vectors start as copies of random item embeddings, to be on the scale the blocks expect.
 */
export class PromptMethod extends AdaptationBase {
  readonly name = 'prompt' as const;
  readonly length: number;

  constructor(backbone: Backbone, catalogue: ItemCatalogue, options: PromptOptions) {
    super(backbone, catalogue);
    const { numItems, blocks, heads } = backbone.config;
    this.length = options.length ?? 4;
    if (!Number.isInteger(this.length) || this.length < 1) throw new RangeError(`prompt length must be a positive integer, got ${this.length}`);
    const rows = Array.from({ length: this.length }, () => FIRST_ITEM_ID + options.rng.int(numItems));
    this.addVariable(
      'prompt.vectors',
      tf.tidy(() => tf.gather(backbone.weight('item_embedding'), tf.tensor1d(rows, 'int32'))),
    );
    for (let b = 0; b < blocks; b++) this.addVariable(`prompt.gate${b}`, tf.zeros([heads]));
  }

  options(): Record<string, number> {
    return { length: this.length };
  }

  userState(input: PreparedInput): tf.Tensor2D {
    const gates = Array.from({ length: this.backbone.config.blocks }, (_, b) => this.variable(`prompt.gate${b}`) as tf.Tensor1D);
    return this.backboneState(input, { prompt: { vectors: this.variable('prompt.vectors') as tf.Tensor2D, gates } });
  }
}
