import * as tf from '@tensorflow/tfjs-core';

/**
 * Row lookup in an embedding table with a scatter-add gradient.
 *
 * `tf.gather`'s gradient needs the UnsortedSegmentSum kernel: the WASM backend does not have it
 * (training an embedding table throws) and the CPU backend's took 20 s per step for a
 * 2,000-row table. `tf.scatterND` adds the rows of duplicate indices together, which is exactly
 * the gradient of a lookup, and runs in a few milliseconds for 6,400 x 64 rows.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const [rows, dim] = table.shape;
  const outShape = [...ids.shape, dim];
  const flatIds = tf.reshape(ids, [-1]);
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([flatIds]);
    return {
      value: tf.reshape(tf.gather(t, flatIds), outShape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [idx] = saved as [tf.Tensor];
        const indices = tf.reshape(idx, [-1, 1]);
        return tf.scatterND(indices, tf.reshape(dy, [-1, dim]), [rows, dim]);
      },
    };
  });
  return lookup(table);
}
