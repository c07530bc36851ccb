import type * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import type { SequenceBatch } from '../sequence-batch.js';

export const METHOD_NAMES = ['ladder', 'bitfit', 'lora', 'adapter', 'prompt', 'frozen', 'full'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export function isMethodName(value: string): value is MethodName {
  return (METHOD_NAMES as readonly string[]).includes(value);
}

/**
 * A batch made ready for `userState`: whatever must happen outside the gradient tape has
 * happened (for the ladder, the whole backbone forward). Owns its tensors.
 */
export interface PreparedInput {
  readonly batchSize: number;
  dispose(): void;
}

export interface ParameterCount {
  /** The method's own trainable parameters. */
  method: number;
  /** The shared new-item table and per-item bias (trainable for every method but `frozen`). */
  side: number;
  /** What the optimiser updates: method + side (0 for frozen). */
  trainable: number;
}

/** One named tensor of a snapshot, as plain data. */
export interface NamedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Everything needed to rebuild a method's parameters on top of the same backbone. */
export interface SerializedAdaptation {
  method: MethodName;
  /** Method hyper-parameters (rank, alpha, width, ...), so the shapes can be rebuilt. */
  options: Record<string, number>;
  sideCapacity: number;
  /** Items in the side table, in slot order. */
  sideItemIds: string[];
  tensors: NamedTensor[];
}

/**
 * The one interface every adaptation method implements, so the trainer, the evaluation and
 * serving never branch on the method. Scores are h' · E'_i + b_i (+ w · m, the co-visit memory
 * that the trainer and serving add from their counts) over the catalogue's slots,
 * where h' is the adapted user state, E' the (method's) item table plus the side rows, and b
 * the shared side bias. At creation every method's scores equal the frozen backbone's.
 */
export interface AdaptationMethod {
  readonly name: MethodName;
  readonly backbone: Backbone;
  readonly catalogue: ItemCatalogue;
  parameterCount(): ParameterCount;
  /** Exactly the variables an optimiser may update; never a backbone tensor. */
  trainableVariables(): tf.Variable[];
  /** The subset of trainableVariables() that is the shared side table and bias (own learning rate). */
  sideVariables(): tf.Variable[];
  /** The subset of sideVariables() that embeds items the backbone never saw (zero means "unknown", not a prior). */
  newItemVariables(): tf.Variable[];
  /** Async work outside the tape; dispose the result when done. */
  prepare(batch: SequenceBatch): Promise<PreparedInput>;
  /** Adapted user states [B, d]. Call inside tidy/minimize. */
  userState(input: PreparedInput): tf.Tensor2D;
  /** Output item table [numSlots, d] (backbone rows, then side rows). Call inside tidy/minimize. */
  itemTable(): tf.Tensor2D;
  /** Per-slot bias [numSlots]. Call inside tidy/minimize. */
  itemBias(): tf.Tensor1D;
  /** The weight w of the co-visit memory in scores (co-visit-memory.ts), shape [1]; 0 at start. Call inside tidy/minimize. */
  coVisitWeight(): tf.Tensor1D;
  /** The model's scores [B, numSlots] without the memory term; PAD and UNK slots are -Infinity. Call inside tidy. */
  scores(input: PreparedInput): tf.Tensor2D;
  /** `scores` from user states [B, d] already computed by `userState` (one forward, several uses). Call inside tidy. */
  scoresAt(h: tf.Tensor2D): tf.Tensor2D;
  serialize(): Promise<SerializedAdaptation>;
  /** Replaces the parameters with a snapshot's, after checking names, shapes and finiteness. */
  load(snapshot: SerializedAdaptation): void;
  dispose(): void;
}
