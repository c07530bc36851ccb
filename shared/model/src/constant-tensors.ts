import * as tf from '@tensorflow/tfjs-core';

const CONSTANTS = new WeakSet<tf.Tensor>();

/**
 * Marks `t` as a constant: a frozen weight that no optimiser updates, whose values never change
 * and for which no gradient is wanted. A frozen Backbone marks its weights. A weight an
 * adaptation method derives from one (LoRA's W + A·B, BitFit's b + delta) is a new tensor, so it
 * is not a constant. What reads the mark: `embeddingLookup` (a constant table's values are read
 * out once, not on every call). No gradient is formed for a constant in any case: the tape only
 * asks for the gradients of what leads from a variable (gradients.ts).
 */
export function markConstant(t: tf.Tensor): void {
  if (t instanceof tf.Variable) throw new Error(`markConstant: ${t.name} is a variable; an optimiser may update it`);
  CONSTANTS.add(t);
}

export function isConstant(t: tf.Tensor): boolean {
  return CONSTANTS.has(t);
}
