import * as tf from '@tensorflow/tfjs-core';
import { batchedMatMulKernel } from './kernels/batched-matmul-kernel.js';

/*
 * Matrix products whose gradients never use a transposed product.
 *
 * TF.js's own matMul gradient calls matMul with transposeA/transposeB set. On the WASM backend
 * those variants skip the XNNPACK fast path and run about 10x slower than a plain product
 * (measured: [6400x64]x[64x2000] 78 ms plain vs 704 ms with transposeB). Transposing the small
 * operand explicitly costs about a millisecond, so the gradients here (and the BatchMatMul one
 * registered in gradients.ts) transpose first and multiply plainly.
 */

/** x with its last two dimensions swapped: the explicit transpose the gradients multiply by. */
export function swapLastTwo(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  perm[n - 1] = n - 2;
  perm[n - 2] = n - 1;
  return tf.transpose(x, perm);
}

/**
 * Whether a·b runs on the SIMD kernel (kernels/batched-matmul-wat.ts): float32 batched operands
 * of equal batch dimensions, batch > 1, where the kernel is loaded. TF.js's WASM backend runs
 * those outside XNNPACK, about 5x slower. One matrix, or broadcast batch dimensions, stay with
 * tf.matMul.
 */
function onKernel(a: tf.Tensor, b: tf.Tensor): boolean {
  const rank = a.rank;
  if (batchedMatMulKernel() === undefined || rank < 3 || b.rank !== rank || a.dtype !== 'float32' || b.dtype !== 'float32') return false;
  const batchShape = a.shape.slice(0, rank - 2);
  return !batchShape.some((size, i) => size !== b.shape[i]) && batchShape.reduce((x, y) => x * y, 1) > 1;
}

/** a·b on the kernel when `onKernel`, else tf.matMul. */
function product(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const kernel = batchedMatMulKernel();
  if (kernel === undefined || !onKernel(a, b)) return tf.matMul(a, b);
  const rank = a.rank;
  const batchShape = a.shape.slice(0, rank - 2);
  const [m, k] = a.shape.slice(rank - 2) as [number, number];
  const [kb, n] = b.shape.slice(rank - 2) as [number, number];
  if (k !== kb) throw new Error(`matMul: inner dimensions differ, [${a.shape.join(', ')}] x [${b.shape.join(', ')}]`);
  const values = kernel.multiply(a.dataSync() as Float32Array, b.dataSync() as Float32Array, batchShape.reduce((x, y) => x * y, 1), m, k, n);
  return tf.tensor(values, [...batchShape, m, n], 'float32');
}

/** The kernel's product is no TF.js kernel, so the tape needs this gradient for it. */
const kernelProduct = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: product(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      return [product(dy, swapLastTwo(sb)), product(swapLastTwo(sa), dy)];
    },
  };
});

/** a·b (no transposes: pass `tf.transpose(x)` explicitly, it is cheap for the operands here). */
export function matMul<R extends tf.Rank>(a: tf.Tensor<R>, b: tf.Tensor<R>): tf.Tensor<R> {
  // TF.js's own product where the kernel does not apply: its gradient (gradients.ts) is computed
  // per operand, only for one that leads from a variable, so a frozen weight's is never formed;
  // and the saved operands are references, where a customGrad saves copies.
  return (onKernel(a, b) ? kernelProduct(a, b) : tf.matMul(a, b)) as tf.Tensor<R>;
}

const logitsWithPlainGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [h, rows, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([h, rows]);
  return {
    value: tf.matMul(h, tf.transpose(rows)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sh, sr] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, sr), tf.matMul(tf.transpose(dy as tf.Tensor2D), sh)];
    },
  };
});

/**
 * Scores h [N, d] against item rows [C, d]: h·rowsᵀ [N, C]. Unlike `matMul(h, transpose(rows))`,
 * the rows' gradient is dyᵀ·h ([C, N] x [N, d]), not hᵀ·dy: XNNPACK packs the right-hand operand
 * on every call, and packing the big [N, C] gradient made that product 3x slower than the
 * forward (measured on [2880 x 64] x [64 x 2700]: 228 ms against 72; transposing dy costs ~20).
 */
export function logitsAgainst(h: tf.Tensor2D, rows: tf.Tensor2D): tf.Tensor2D {
  return logitsWithPlainGrad(h, rows) as tf.Tensor2D;
}
