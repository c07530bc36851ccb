import type { Backbone } from '../backbone.js';
import { FIRST_ITEM_ID, PAD_ID, UNK_ID } from '../backbone-config.js';
import { type BackboneRunOutput, type BackboneRunner, TfjsBackboneRunner } from '../backbone-runner.js';
import type { SequenceBatch } from '../sequence-batch.js';
import { type OnnxRuntimeModule, OrtBackboneRunner } from './ort-runner.js';

/**
 * Which engine runs the frozen backbone. `auto` prefers ONNX Runtime and falls back to TF.js with
 * the reason logged, because onnxruntime-node is a native binding that may not load everywhere
 * (an unsupported platform or libc, a stripped install); `onnx` insists and fails loudly.
 */
export const BACKBONE_ENGINES = ['auto', 'onnx', 'tfjs'] as const;
export type BackboneEngine = (typeof BACKBONE_ENGINES)[number];

export function isBackboneEngine(value: string): value is BackboneEngine {
  return (BACKBONE_ENGINES as readonly string[]).includes(value);
}

export interface CreateBackboneRunnerOptions {
  engine: BackboneEngine;
  /** ONNX Runtime intra-op threads (see OrtBackboneRunnerOptions); ignored by TF.js. */
  threads?: number;
  /** ONNX Runtime execution providers, best first (RECO_ORT_PROVIDERS); default `cpu`. */
  providers?: readonly string[];
  /** Where the choice (and any fallback reason) is logged; defaults to console.error, as initBackend. */
  log?: (message: string) => void;
  /** How to load onnxruntime-node; tests inject a failing loader to exercise the fallback. */
  loadOrt?: () => Promise<OnnxRuntimeModule>;
}

export interface BackboneRunnerChoice {
  runner: BackboneRunner;
  engine: 'onnx' | 'tfjs';
  /** Why `auto` did not get ONNX Runtime (absent when it did, or when TF.js was asked for). */
  fallbackReason?: string;
}

/**
 * Beyond this, ORT's answer on the smoke row disagrees with TF.js's: an export or runtime bug,
 * not float rounding (the parity test sees about 1e-6). Relative to the value's magnitude.
 */
const SMOKE_TOLERANCE = 1e-3;

/** The runner the caller asked for, or in `auto` mode the best one that works on this machine. */
export async function createBackboneRunner(backbone: Backbone, options: CreateBackboneRunnerOptions): Promise<BackboneRunnerChoice> {
  const log = options.log ?? ((message: string) => console.error(message));
  if (!isBackboneEngine(options.engine)) throw new RangeError(`unknown backbone engine ${String(options.engine)}; expected one of ${BACKBONE_ENGINES.join(', ')}`);
  if (options.engine === 'tfjs') {
    log('[reco/model] backbone runner: TF.js');
    return { runner: new TfjsBackboneRunner(backbone), engine: 'tfjs' };
  }
  try {
    const runner = await createCheckedOrtRunner(backbone, options);
    log(`[reco/model] backbone runner: ONNX Runtime (${runner.provider}, ${runner.threads} thread${runner.threads === 1 ? '' : 's'})`);
    return { runner, engine: 'onnx' };
  } catch (error) {
    const reason = describe(error);
    if (options.engine === 'onnx') throw new Error(`ONNX Runtime backbone runner failed: ${reason}`, { cause: error });
    log(`[reco/model] ONNX Runtime unavailable (${reason}); using the TF.js runner`);
    return { runner: new TfjsBackboneRunner(backbone), engine: 'tfjs', fallbackReason: reason };
  }
}

/**
 * Creates the ORT runner and proves it on one row before anyone relies on it: a binding that loads
 * but cannot run (or an export that disagrees with the TF.js forward) should be found at start-up,
 * where `auto` can still fall back, not on the first request.
 */
async function createCheckedOrtRunner(backbone: Backbone, options: CreateBackboneRunnerOptions): Promise<OrtBackboneRunner> {
  const runner = await OrtBackboneRunner.create(backbone, {
    log: options.log ?? ((message: string) => console.error(message)),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.providers === undefined ? {} : { providers: options.providers }),
    ...(options.loadOrt === undefined ? {} : { loadOrt: options.loadOrt }),
  });
  try {
    const batch = smokeBatch(backbone);
    const [actual, expected] = await Promise.all([runner.run(batch), new TfjsBackboneRunner(backbone).run(batch)]);
    const diff = maxRelativeDifference(actual, expected);
    if (!(diff <= SMOKE_TOLERANCE)) throw new Error(`its output differs from TF.js by ${diff} on a smoke row (tolerance ${SMOKE_TOLERANCE})`);
    return runner;
  } catch (error) {
    runner.dispose();
    throw error;
  }
}

/** One short history (an unknown item, then a known one) padded to maxLen: exercises every path. */
function smokeBatch(backbone: Backbone): SequenceBatch {
  const { maxLen } = backbone.config;
  const ids = new Int32Array(maxLen).fill(PAD_ID);
  ids[maxLen - 1] = FIRST_ITEM_ID;
  if (maxLen > 1) ids[maxLen - 2] = UNK_ID;
  return { ids, batchSize: 1, maxLen };
}

/** NaN-propagating: a NaN anywhere makes the result NaN, which fails the `<=` check. */
function maxRelativeDifference(a: BackboneRunOutput, b: BackboneRunOutput): number {
  const pairs: [Float32Array, Float32Array | undefined][] = [[a.userState, b.userState], ...a.blockOutputs.map((x, i): [Float32Array, Float32Array | undefined] => [x, b.blockOutputs[i]])];
  let worst = 0;
  for (const [x, y] of pairs) {
    if (y === undefined || x.length !== y.length) return Number.NaN;
    for (let i = 0; i < x.length; i++) {
      const ref = y[i] as number;
      const d = Math.abs((x[i] as number) - ref) / Math.max(1, Math.abs(ref));
      if (Number.isNaN(d)) return Number.NaN;
      worst = Math.max(worst, d);
    }
  }
  return worst;
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
