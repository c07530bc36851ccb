import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean softmax cross-entropy of logits [N, C] against target columns [N] (int32), weighted per
 * row (weight 0 drops a padding row). Written out for WASM, where every elementwise pass over a
 * [2,880 x 2,700] logits matrix is a measurable share of a pretraining step:
 * - the probabilities come from one `tf.softmax`, which the WASM backend runs as XNNPACK's fused,
 *   vectorised softmax, in place of max, shift, exp and sum written out. XNNPACK also flushes what
 *   would be subnormal exponentials to zero: WASM has no flush-to-zero, and passes over subnormals
 *   (logits spread over hundreds of nats) once slowed pretraining by a third;
 * - each row's loss is exact without a log-sum-exp pass: with m the row's largest logit,
 *   Σ exp(x - m) = 1 / max p, so -log p_t = (m - x_t) - log(max p), and max p >= 1/C never
 *   underflows (log p_t itself would, for a target scored far below the rest);
 * - the target logits are read by a gather, never through a one-hot matrix; the gradient
 *   (softmax - onehot) · w / Σw is one scaled pass plus a scatter at the targets.
 * (`tf.losses.softmaxCrossEntropy` recomputes exp three times over the matrix.)
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights?: tf.Tensor1D): tf.Scalar {
  const [rows, classes] = logits.shape;
  const w = weights ?? tf.ones([rows]);
  const total = tf.maximum(tf.sum(w), 1e-12);
  const at = tf.cast(targets, 'int32');
  // Each row's target as a flat index into the matrix, and as (row, column) for the scatter.
  const flatAt = tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(classes, 'int32')), at);
  const pairs = tf.stack([tf.range(0, rows, 1, 'int32'), at], 1);
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const probs = tf.softmax(x);
    const shift = tf.sub(tf.max(x, 1), tf.gather(tf.reshape(x, [-1]), flatAt));
    const perRow = tf.sub(shift, tf.log(tf.max(probs, 1)));
    // Everything the gradient reads must be saved: the forward scope is disposed before backprop.
    save([probs, w, total, pairs]);
    return {
      value: tf.div(tf.sum(tf.mul(perRow, w)), total),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [p, sw, st, targetAt] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const rowScale = tf.div(tf.mul(sw, dy), st);
        return tf.sub(tf.mul(p, tf.reshape(rowScale, [rows, 1])), tf.scatterND(targetAt, rowScale, [rows, classes]));
      },
    };
  });
  return loss(logits) as tf.Scalar;
}
