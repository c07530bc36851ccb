import * as tf from '@tensorflow/tfjs-core';
import type { ItemCatalogue } from './item-catalogue.js';

/**
 * The parameters every adaptation method shares for the catalogue's moving parts:
 * - an embedding per side slot (items the backbone never saw), zero at start, so a new item
 *   scores exactly 0 until clicks on it are trained on;
 * - a bias per score slot (all items), zero at start, which is how popularity drift and a new
 *   item's burst of clicks move an item up for everyone without touching the user state.
 * - the weight of the co-visit memory in every score (see co-visit-memory.ts), zero at start.
 * The tables are sized for a full side table up front, so tensor shapes never change while serving.
 */
export const SIDE_EMBEDDING = 'side.new_item_embedding';
export const SIDE_BIAS = 'side.item_bias';
export const CO_VISIT_WEIGHT = 'side.co_visit_weight';

export class SideItemParameters {
  readonly newItemEmbedding: tf.Variable;
  readonly itemBias: tf.Variable;
  readonly coVisitWeight: tf.Variable;

  constructor(
    readonly catalogue: ItemCatalogue,
    dim: number,
  ) {
    this.newItemEmbedding = variableFrom(tf.zeros([catalogue.sideCapacity, dim]));
    this.itemBias = variableFrom(tf.zeros([catalogue.maxSlots]));
    this.coVisitWeight = variableFrom(tf.zeros([1]));
  }

  get parameterCount(): number {
    return this.newItemEmbedding.size + this.itemBias.size + this.coVisitWeight.size;
  }

  variables(): Map<string, tf.Variable> {
    return new Map([
      [SIDE_EMBEDDING, this.newItemEmbedding],
      [SIDE_BIAS, this.itemBias],
      [CO_VISIT_WEIGHT, this.coVisitWeight],
    ]);
  }

  /** The output item table for the slots in use: the given backbone table, then used side rows. */
  outputTable(backboneTable: tf.Tensor2D): tf.Tensor2D {
    const used = this.catalogue.sideCount;
    if (used === 0) return backboneTable;
    const dim = backboneTable.shape[1];
    return tf.concat([backboneTable, tf.slice(this.newItemEmbedding as tf.Tensor2D, [0, 0], [used, dim])], 0);
  }

  /** Bias of the slots in use [numSlots]. */
  bias(): tf.Tensor1D {
    return tf.slice(this.itemBias as tf.Tensor1D, [0], [this.catalogue.numSlots]);
  }

  dispose(): void {
    this.newItemEmbedding.dispose();
    this.itemBias.dispose();
    this.coVisitWeight.dispose();
  }
}

/** A variable takes its own reference to the initial values; the temporary is released here. */
function variableFrom(initial: tf.Tensor): tf.Variable {
  const variable = tf.variable(initial, true);
  initial.dispose();
  return variable;
}
