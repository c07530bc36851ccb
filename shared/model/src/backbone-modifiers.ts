import type * as tf from '@tensorflow/tfjs-core';

/**
 * The hooks through which an adaptation method changes the one backbone forward, so no method
 * copies the transformer code. Every hook runs inside the forward's `tf.tidy`, may build new
 * tensors from its own variables (the gradient tape sees them), and must never dispose or
 * mutate the tensors it is handed.
 */
export interface BackboneModifiers {
  /**
   * The tensor to use in place of backbone weight `name` (see backbone-config.ts for names):
   * LoRA returns `base + (alpha/r)·A·B`, BitFit `base + delta`, full fine-tuning its own copy.
   * Return `base` itself to leave a weight alone.
   */
  weight?: (name: string, base: tf.Tensor) => tf.Tensor;
  /** Applied to the item + position embeddings [B*L, d] before the first block (pretraining's dropout). */
  embeddingOutput?: (x: tf.Tensor2D) => tf.Tensor2D;
  /** Applied to block `block`'s attention sublayer output before the residual add (adapters). */
  attentionOutput?: (block: number, y: tf.Tensor2D) => tf.Tensor2D;
  /** Applied to block `block`'s feed-forward sublayer output before the residual add. */
  ffnOutput?: (block: number, y: tf.Tensor2D) => tf.Tensor2D;
  /**
   * Soft-prompt vectors [P, d] placed before every sequence. They run through the blocks as
   * their own (causal, unpadded) stream; item positions read them through a separate attention
   * whose output is scaled per head by tanh(gate[block]): gate = 0 makes the prompt an exact
   * no-op while its gradient is not zero, so training opens it.
   */
  prompt?: { vectors: tf.Tensor2D; gates: tf.Tensor1D[] };
}
