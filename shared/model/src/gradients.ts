import * as tf from '@tensorflow/tfjs-core';
import { swapLastTwo } from './matmul.js';

/**
 * Gradient functions for the kernels the model trains through.
 *
 * Why this file exists: `@tensorflow/tfjs-core`'s CommonJS bundle (what Node loads) contains no
 * gradients. The union package `@tensorflow/tfjs` registers them from
 * `tfjs-core/dist/register_all_gradients.js`, but that file is ES-module source with
 * extension-less imports that Node cannot load, and the union package would pull in layers,
 * converter and data for nothing. So the handful of gradients this model needs are registered
 * here through the public API; each mirrors the corresponding `tfjs-core/src/gradients/*_grad.ts`
 * (Apache-2.0). A kernel missing from this list makes training throw "gradient function not
 * found for X", never silently produce a wrong gradient. Products on the batched kernel and
 * embedding lookups have custom gradients of their own (matmul.ts, embedding-lookup.ts).
 */
type Saved = tf.Tensor[];
/** Per-input gradient thunks, keyed by input name or (for list inputs) index. */
type GradientMap = Record<string, () => tf.Tensor>;

/** A same-dtype cast is a full copy on WASM; skip it for the float tensors that are the norm. */
function asFloat(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

function reduceTo(grad: tf.Tensor, shape: number[], outShape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, outShape);
  return tf.reshape(axes.length > 0 ? tf.sum(grad, axes) : grad, shape);
}

/** A product's gradient summed over the batch dimensions the operand was broadcast along. */
function reduceBatchTo(grad: tf.Tensor, shape: number[]): tf.Tensor {
  if (grad.rank === shape.length && grad.shape.every((n, i) => n === shape[i])) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank - 2; i++) if (i < lead || shape[i - lead] === 1) axes.push(i);
  return tf.reshape(tf.sum(grad, axes), shape);
}

function binary(kernelName: string, da: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor, db: (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const out = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      return { a: () => reduceTo(da(g, a, b), a.shape, out), b: () => reduceTo(db(g, a, b), b.shape, out) };
    },
  };
}

/** Unary kernel whose gradient needs its input (`fromInput`) or its output. */
function unary(kernelName: string, grad: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor, fromOutput = false, inputName = 'x'): tf.GradConfig {
  const config: tf.GradConfig = {
    kernelName,
    gradFunc: (dy, saved) => ({ [inputName]: () => grad(dy as tf.Tensor, (saved as Saved)[0] as tf.Tensor) }),
  };
  if (fromOutput) config.outputsToSave = [true];
  else config.inputsToSave = [inputName];
  return config;
}

function expandReduced(dy: tf.Tensor, x: tf.Tensor, axis: unknown): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
  const shape = x.shape.slice();
  for (const a of axes) shape[a] = 1;
  return tf.mul(tf.reshape(dy, shape), tf.ones(x.shape, 'float32'));
}

const configs: tf.GradConfig[] = [
  binary(tf.Add, (dy) => dy, (dy) => dy),
  binary(tf.Sub, (dy) => dy, (dy) => tf.neg(dy)),
  binary(tf.Multiply, (dy, _a, b) => tf.mul(dy, asFloat(b)), (dy, a) => tf.mul(dy, asFloat(a))),
  binary(
    tf.RealDiv,
    (dy, _a, b) => tf.div(dy, asFloat(b)),
    (dy, a, b) => tf.neg(tf.div(tf.mul(dy, asFloat(a)), tf.square(asFloat(b)))),
  ),
  {
    kernelName: tf.AddN,
    saveAllInputs: true,
    gradFunc: (dy, saved) => (saved as Saved).map(() => () => tf.clone(dy as tf.Tensor)) as unknown as GradientMap,
  },
  unary(tf.Neg, (dy) => tf.neg(dy)),
  unary(tf.Identity, (dy) => tf.clone(dy)),
  unary(tf.Cast, (dy) => tf.clone(dy)),
  unary(tf.Square, (dy, x) => tf.mul(dy, tf.mul(asFloat(x), 2))),
  unary(tf.Sqrt, (dy, x) => tf.div(dy, tf.mul(tf.sqrt(asFloat(x)), 2))),
  unary(tf.Rsqrt, (dy, x) => tf.neg(tf.div(dy, tf.mul(tf.pow(x, 1.5), 2)))),
  unary(tf.Exp, (dy, y) => tf.mul(dy, y), true),
  unary(tf.Log, (dy, x) => tf.div(dy, asFloat(x))),
  unary(tf.Sigmoid, (dy, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y))), true),
  unary(tf.Tanh, (dy, y) => tf.mul(tf.sub(1, tf.square(y)), dy), true),
  unary(tf.Relu, (dy, x) => tf.mul(dy, tf.cast(tf.step(x), 'float32'))),
  unary(tf.Softplus, (dy, x) => tf.mul(dy, tf.sigmoid(x))),
  unary(tf.Reshape, (dy, x) => tf.reshape(dy, x.shape)),
  {
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const y = (saved as Saved)[0] as tf.Tensor;
      const dim = attrs.dim as number;
      const dyTimesY = tf.mul(dy as tf.Tensor, y);
      return { logits: () => tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y)) };
    },
  },
  {
    // Per operand, so one that does not lead from a variable (a frozen weight, an input that no
    // variable feeds) gets no product at all; and each product plain, the operand transposed
    // explicitly: the WASM backend runs a product with transposeA/B outside XNNPACK (matmul.ts).
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const [ta, tb] = [attrs.transposeA === true, attrs.transposeB === true];
      const product = (x: tf.Tensor, y: tf.Tensor, shape: number[]): tf.Tensor => reduceBatchTo(tf.matMul(x, y), shape);
      return {
        // C = op(A)·op(B): dA = dy·op(B)ᵀ (or its transpose when A was transposed), dB likewise.
        a: () => (ta ? product(tb ? swapLastTwo(b) : b, swapLastTwo(g), a.shape) : product(g, tb ? b : swapLastTwo(b), a.shape)),
        b: () => (tb ? product(swapLastTwo(g), ta ? swapLastTwo(a) : a, b.shape) : product(ta ? a : swapLastTwo(a), g, b.shape)),
      };
    },
  },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs) => {
      const undo = tf.backend_util.getUndoAxesPermutation(attrs.perm as number[]);
      return { x: () => tf.transpose(dy as tf.Tensor, undo) };
    },
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => ({ x: () => expandReduced(dy as tf.Tensor, (saved as Saved)[0] as tf.Tensor, attrs.axis) }),
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = (saved as Saved)[0] as tf.Tensor;
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
      const count = axes.reduce((n, a) => n * (x.shape[a] ?? 1), 1);
      return { x: () => tf.div(expandReduced(dy as tf.Tensor, x, attrs.axis), count) };
    },
  },
  {
    kernelName: tf.Max,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved as [tf.Tensor, tf.Tensor];
      const axes = tf.util.parseAxisParam(attrs.reductionIndices as number | number[], x.shape);
      const keep = tf.backend_util.expandShapeToKeepDim(y.shape, axes);
      const yk = y.rank < x.rank ? tf.reshape(y, keep) : y;
      const dk = (dy as tf.Tensor).rank < x.rank ? tf.reshape(dy as tf.Tensor, keep) : (dy as tf.Tensor);
      return { x: () => tf.mul(dk, tf.cast(tf.equal(x, yk), 'float32')) };
    },
  },
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const inputs = saved as Saved;
      const first = inputs[0] as tf.Tensor;
      const axis = tf.util.parseAxisParam(attrs.axis as number, first.shape)[0] ?? 0;
      const parts = tf.split(dy as tf.Tensor, inputs.map((t) => t.shape[axis] ?? 0), axis);
      return parts.map((t) => () => t) as unknown as GradientMap;
    },
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = (saved as Saved)[0] as tf.Tensor;
      const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin as number[], attrs.size as number[]) as [number[], number[]];
      const paddings = x.shape.map((n, i) => [begin[i] ?? 0, n - (begin[i] ?? 0) - (size[i] ?? 0)] as [number, number]);
      return { x: () => tf.pad(dy as tf.Tensor, paddings) };
    },
  },
  {
    kernelName: tf.Pack,
    saveAllInputs: true,
    gradFunc: (dy, _saved, attrs) => tf.unstack(dy as tf.Tensor, attrs.axis as number).map((t) => () => t) as unknown as GradientMap,
  },
  {
    kernelName: tf.Unpack,
    gradFunc: (dy, _saved, attrs) => ({ value: () => tf.stack(dy as tf.Tensor[], attrs.axis as number) }),
  },
];

let registered = false;

/** Registers the gradients once per process (the registry is global to tfjs-core). */
export function registerGradients(): void {
  if (registered) return;
  registered = true;
  for (const config of configs) {
    // Keep any gradient someone else registered (e.g. the union package, when present).
    if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
  }
}
