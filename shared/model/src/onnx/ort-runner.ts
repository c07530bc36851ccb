// Types only: the runtime module is loaded on demand (loadOnnxRuntime), so importing @reco/model
// never loads the native binding, and a machine where it cannot load still runs on TF.js.
import type * as Ort from 'onnxruntime-node';
import type { Backbone } from '../backbone.js';
import type { BackboneRunOutput, BackboneRunner } from '../backbone-runner.js';
import type { SequenceBatch } from '../sequence-batch.js';
import { DEFAULT_ORT_PROVIDERS, createOrtSession } from './ort-session.js';
import { ONNX_IDS_INPUT, ONNX_USER_STATE_OUTPUT, exportBackboneOnnx, onnxBlockOutputName } from './backbone-onnx.js';

export type OnnxRuntimeModule = typeof Ort;

let loading: Promise<OnnxRuntimeModule> | undefined;

/**
 * Imports onnxruntime-node once per process. A failed import is not cached, so a caller may retry
 * (the usual failure, a native library that cannot be loaded, will simply fail again).
 */
export function loadOnnxRuntime(): Promise<OnnxRuntimeModule> {
  loading ??= import('onnxruntime-node').catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

export interface OrtBackboneRunnerOptions {
  /**
   * ONNX Runtime intra-op threads: one forward's kernels split across cores. Default 1. A forward
   * is a few MFLOP per sequence, so a second thread pays off only on large batches and only when
   * a core is idle; on a 2-core box that also runs Kafka and TF.js training, measured, it costs more
   * than it gains (ORT's own default, one thread per physical core, would also grab every core of a
   * big server for this small model).
   */
  threads?: number;
  /** Execution providers, best first (see OrtSessionSettings); default `cpu`. */
  providers?: readonly string[];
  /** How to obtain the runtime; tests inject a failing loader to exercise the TF.js fallback. */
  loadOrt?: () => Promise<OnnxRuntimeModule>;
  /** Where a provider passed over is reported. */
  log?: (message: string) => void;
}

/**
 * The frozen backbone on ONNX Runtime: the same `SequenceBatch` in, the same `BackboneRunOutput`
 * out as `TfjsBackboneRunner` (the parity test holds the two within 1e-4), more than ten times
 * faster on CPU: ORT's kernels are native code, and the exported graph runs most of the last
 * block for the last position only (see backbone-onnx.ts).
 *
 * The weights are copied into the ONNX model at creation, so the runner does not borrow the
 * backbone; it owns a native session instead, which `dispose()` releases.
 *
 * Concurrency: onnxruntime-node executes `session.run` synchronously on the JS thread (inside a
 * setImmediate), so concurrent `run` calls are serialised by the event loop and never share a
 * native call; each gets its own output arrays. The flip side is that a large batch blocks the
 * event loop for its duration, as a TF.js forward on WASM does.
 */
export class OrtBackboneRunner implements BackboneRunner {
  readonly dim: number;
  readonly blocks: number;
  readonly maxLen: number;
  /** Intra-op threads of the session. */
  readonly threads: number;
  /** The execution provider that runs it. */
  readonly provider: string;
  private session: Ort.InferenceSession | undefined;
  private inFlight = 0;
  private disposed = false;

  private constructor(
    private readonly ort: OnnxRuntimeModule,
    session: Ort.InferenceSession,
    backbone: Backbone,
    threads: number,
    provider: string,
  ) {
    this.session = session;
    this.provider = provider;
    this.dim = backbone.config.dim;
    this.blocks = backbone.config.blocks;
    this.maxLen = backbone.config.maxLen;
    this.threads = threads;
  }

  static async create(backbone: Backbone, options: OrtBackboneRunnerOptions = {}): Promise<OrtBackboneRunner> {
    const threads = options.threads ?? 1;
    const ort = await (options.loadOrt ?? loadOnnxRuntime)();
    const model = await exportBackboneOnnx(backbone);
    const { session, provider } = await createOrtSession(ort, model, { threads, providers: options.providers ?? DEFAULT_ORT_PROVIDERS }, { sequential: true, ...(options.log === undefined ? {} : { log: options.log }) });
    const expected = [ONNX_USER_STATE_OUTPUT, ...Array.from({ length: backbone.config.blocks }, (_, b) => onnxBlockOutputName(b))];
    const missing = expected.filter((name) => !session.outputNames.includes(name));
    if (!session.inputNames.includes(ONNX_IDS_INPUT) || missing.length > 0) {
      await session.release();
      throw new Error(`exported backbone model lacks input ${ONNX_IDS_INPUT} or outputs ${missing.join(', ')}`);
    }
    return new OrtBackboneRunner(ort, session, backbone, threads, provider);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  async run(batch: SequenceBatch): Promise<BackboneRunOutput> {
    const session = this.session;
    if (this.disposed || session === undefined) throw new Error('OrtBackboneRunner used after dispose()');
    if (batch.maxLen !== this.maxLen) throw new Error(`runner expects sequences of length ${this.maxLen}, got ${batch.maxLen}`);
    const { batchSize } = batch;
    if (!Number.isInteger(batchSize) || batchSize < 0 || batch.ids.length !== batchSize * this.maxLen) {
      throw new Error(`batch of ${batchSize} x ${this.maxLen} ids has ${batch.ids.length} ids`);
    }
    if (batchSize === 0) return { batchSize, dim: this.dim, userState: new Float32Array(0), blockOutputs: Array.from({ length: this.blocks }, () => new Float32Array(0)) };

    // A copy: ORT reads the input when the run executes (a later macrotask), and the caller may
    // reuse its ids buffer once run() has returned a promise, as it may with the TF.js runner.
    const ids = new this.ort.Tensor('int32', batch.ids.slice(), [batchSize, this.maxLen]);
    this.inFlight++;
    try {
      const results = await session.run({ [ONNX_IDS_INPUT]: ids });
      const read = (name: string): Float32Array => ownedRows(results[name], name, batchSize, this.dim);
      return {
        batchSize,
        dim: this.dim,
        userState: read(ONNX_USER_STATE_OUTPUT),
        blockOutputs: Array.from({ length: this.blocks }, (_, b) => read(onnxBlockOutputName(b))),
      };
    } finally {
      this.inFlight--;
      if (this.disposed && this.inFlight === 0) this.release();
    }
  }

  /**
   * Idempotent. Runs already started finish first (releasing the session under them would make
   * them fail with "Session already disposed"); the native session goes when the last one settles.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inFlight === 0) this.release();
  }

  private release(): void {
    const session = this.session;
    this.session = undefined;
    // Nothing can await dispose(); a failed release leaves nothing for the caller to do.
    if (session !== undefined) session.release().catch(() => undefined);
  }
}

/**
 * An output as a [B, d] Float32Array the caller may keep. onnxruntime-node 1.30 copies every CPU
 * output into a fresh ArrayBuffer of its own (its binding calls napi_create_arraybuffer + memcpy,
 * no external buffers), so nothing is shared with ORT's arena or with the next run. A binding
 * that returned a view into a larger buffer is copied here, so the contract does not hinge on it.
 */
function ownedRows(tensor: Ort.Tensor | undefined, name: string, batchSize: number, dim: number): Float32Array {
  if (tensor === undefined) throw new Error(`ONNX Runtime returned no ${name}`);
  if (tensor.type !== 'float32' || tensor.dims.join('x') !== `${batchSize}x${dim}`) {
    throw new Error(`ONNX Runtime returned ${name} as ${tensor.type} [${tensor.dims.join(', ')}], expected float32 [${batchSize}, ${dim}]`);
  }
  const data = tensor.data as Float32Array;
  const exclusive = data.byteOffset === 0 && data.buffer.byteLength === data.byteLength;
  return exclusive ? data : data.slice();
}
