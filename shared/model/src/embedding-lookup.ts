import * as tf from '@tensorflow/tfjs-core';
import { isConstant } from './constant-tensors.js';

/**
 * Row lookup in an embedding table with a scatter-add gradient.
 *
 * `tf.gather`'s gradient needs the UnsortedSegmentSum kernel: the WASM backend does not have it
 * (training an embedding table throws) and the CPU backend's took 20 s per step for a
 * 2,000-row table. `tf.scatterND` adds the rows of duplicate indices together, which is exactly
 * the gradient of a lookup, and runs in a few milliseconds for 6,400 x 64 rows.
 *
 * The forward copies rows in JavaScript on the WASM and CPU backends (see copyRows).
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const [rows, dim] = table.shape;
  const outShape = [...ids.shape, dim];
  const flatIds = tf.reshape(ids, [-1]);
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([flatIds]);
    return {
      value: tf.reshape(rowsOf(t, flatIds as tf.Tensor1D), outShape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [idx] = saved as [tf.Tensor];
        const indices = tf.reshape(idx, [-1, 1]);
        return tf.scatterND(indices, tf.reshape(dy, [-1, dim]), [rows, dim]);
      },
    };
  });
  return lookup(table);
}

let copying = true;

/** Turns the JavaScript row copy off and on in this thread: bench:kernels times tf.gather with it off. */
export function useRowCopy(on: boolean): void {
  copying = on;
}

/** A constant table's values, read out of the backend once (constants never change). */
const constantValues = new WeakMap<tf.Tensor, Float32Array>();

function rowsOf(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const backend = tf.getBackend();
  if (!copying || (backend !== 'wasm' && backend !== 'cpu') || table.dtype !== 'float32') return tf.gather(table, ids);
  const constant = isConstant(table);
  let values = constant ? constantValues.get(table) : undefined;
  if (values === undefined) {
    values = table.dataSync() as Float32Array;
    if (constant) constantValues.set(table, values);
  }
  return tf.tensor2d(copyRows(values, table.shape, ids.dataSync() as Int32Array), [ids.shape[0], table.shape[1]], 'float32');
}

/**
 * table[ids] row by row. TF.js's WASM GatherV2 computes every element's source index on its own
 * (`npm run bench:kernels`: a lookup of 3,200 ids in a 9,000 x 64 table, the backbone's at batch
 * 64), where a row is one contiguous copy here. An id outside the table is an error, not zeros.
 */
export function copyRows(values: Float32Array, [rows, dim]: [number, number], ids: Int32Array): Float32Array {
  const out = new Float32Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!(id >= 0 && id < rows)) throw new RangeError(`embedding lookup: id ${id} is outside the table's ${rows} rows`);
    out.set(values.subarray(id * dim, id * dim + dim), i * dim);
  }
  return out;
}
