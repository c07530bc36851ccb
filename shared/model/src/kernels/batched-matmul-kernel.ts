import wabtInit from 'wabt';
import { BATCHED_MATMUL_WAT } from './batched-matmul-wat.js';

// @types/node 20 does not declare the WebAssembly global; these are the few parts used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  memory: WasmMemory;
  bmm: (a: number, b: number, c: number, batch: number, m: number, k: number, n: number) => void;
}

const PAGE_BYTES = 65_536;

/** The assembled kernel and the memory its operands are copied into (grown on demand, reused). */
export class BatchedMatMulKernel {
  private constructor(private readonly exports: KernelExports) {}

  static async load(): Promise<BatchedMatMulKernel> {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat('batched-matmul.wat', BATCHED_MATMUL_WAT, { simd: true });
    try {
      const { buffer } = parsed.toBinary({});
      const instance = new wasm.Instance(new wasm.Module(buffer), {});
      return new BatchedMatMulKernel(instance.exports as unknown as KernelExports);
    } finally {
      parsed.destroy();
    }
  }

  /** c[batch, m, n] = a[batch, m, k] . b[batch, k, n], row-major float32. */
  multiply(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number): Float32Array {
    const aLength = batch * m * k;
    const bLength = batch * k * n;
    const cLength = batch * m * n;
    if (a.length !== aLength || b.length !== bLength) {
      throw new Error(`batched product: operands of ${a.length} and ${b.length} values do not fit [${batch}, ${m}, ${k}] x [${batch}, ${k}, ${n}]`);
    }
    const { memory, bmm } = this.exports;
    const bytes = (aLength + bLength + cLength) * 4;
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    const heap = new Float32Array(memory.buffer);
    heap.set(a, 0);
    heap.set(b, aLength);
    bmm(0, aLength * 4, (aLength + bLength) * 4, batch, m, k, n);
    return heap.slice(aLength + bLength, aLength + bLength + cLength);
  }
}

let loaded: BatchedMatMulKernel | undefined;
let loading: Promise<BatchedMatMulKernel> | undefined;
let enabled = true;

/** Assembles the kernel once per thread; `batchedMatMulKernel()` returns it from then on. */
export function loadBatchedMatMulKernel(): Promise<BatchedMatMulKernel> {
  loading ??= BatchedMatMulKernel.load().then((kernel) => {
    loaded = kernel;
    return kernel;
  });
  return loading;
}

/** The kernel once `loadBatchedMatMulKernel()` has resolved in this thread (and while enabled). */
export function batchedMatMulKernel(): BatchedMatMulKernel | undefined {
  return enabled ? loaded : undefined;
}

/** Turns the kernel off and on in this thread: bench:kernels measures TF.js's own product with it off. */
export function useBatchedMatMulKernel(on: boolean): void {
  enabled = on;
}
