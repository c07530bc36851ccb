import * as tf from '@tensorflow/tfjs-core';

/**
 * Shifted logits are clamped here before exp. Below about -87, exp(x) is a subnormal float, and
 * WASM has no flush-to-zero: every pass over subnormals runs several times slower (exp over a
 * [2,880 x 2,700] matrix: 218 ms with logits spread over 10 nats, 392 ms over 200; the multiply
 * after it 38 against 124), so pretraining slowed by a third as its logits spread out. The
 * clamp changes a probability below e^-60 to e^-60: at most C x 1e-26 on the loss.
 */
const MIN_SHIFTED_LOGIT = -60;

/**
 * Mean softmax cross-entropy of logits [N, C] against target columns [N] (int32), weighted per
 * row (weight 0 drops a padding row). Written out for WASM, where every elementwise pass over a
 * [3,000 x 2,700] matrix costs 15-25 ms (and exp over 100): the forward makes four passes (max,
 * shift, exp, sum) and reads each row's target logit by a gather, never through a one-hot
 * matrix; the gradient (softmax - onehot) · w / Σw is one scaled pass plus a scatter at the
 * targets. (`tf.losses.softmaxCrossEntropy` recomputes exp three times over the matrix.)
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
    const max = tf.max(x, 1, true);
    const exp = tf.exp(tf.maximum(tf.sub(x, max), MIN_SHIFTED_LOGIT));
    const sumExp = tf.sum(exp, 1, true);
    const logSumExp = tf.reshape(tf.add(tf.log(sumExp), max), [rows]);
    const targetLogit = tf.gather(tf.reshape(x, [-1]), flatAt);
    const perRow = tf.sub(logSumExp, targetLogit);
    // Everything the gradient reads must be saved: the forward scope is disposed before backprop.
    save([exp, sumExp, w, total, pairs]);
    return {
      value: tf.div(tf.sum(tf.mul(perRow, w)), total),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [e, s, sw, st, targetAt] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const rowScale = tf.div(tf.mul(sw, dy), st);
        const softmax = tf.mul(e, tf.div(tf.reshape(rowScale, [rows, 1]), s));
        return tf.sub(softmax, tf.scatterND(targetAt, rowScale, [rows, classes]));
      },
    };
  });
  return loss(logits) as tf.Scalar;
}
