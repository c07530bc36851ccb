import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from './gradients.js';
import { loadBatchedMatMulKernel } from './kernels/batched-matmul-kernel.js';

/**
 * TF.js backend selection. The native bindings download libtensorflow at install time, which
 * fails without open internet, so they are optional and tried by dynamic import; WASM is next
 * because on this kind of machine it is 5-10x faster than the plain JS CPU backend.
 *
 * This module never reads process.env: the `RECO_TF_BACKEND` override is read by the config
 * layer (see cli/cli-config.ts) and passed in as `preferred`.
 */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendChoice {
  /** The name passed to the loader, e.g. 'wasm'. */
  name: BackendName;
  /** `tf.getBackend()` after selection ('tensorflow' for both native packages). */
  tfName: string;
  /** Candidates tried before the chosen one, and why each was not used. */
  skipped: { name: BackendName; reason: string }[];
}

export interface InitBackendOptions {
  /** Try only this backend (fails loudly if it cannot load): the RECO_TF_BACKEND override. */
  preferred?: BackendName;
  /** Where the choice is logged; defaults to console.error so stdout stays clean for --json. */
  log?: (message: string) => void;
}

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(value);
}

// The native packages are not installed on most machines: the specifier lives in a variable so
// the compiler does not demand their type declarations.
const NATIVE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

async function tryLoad(name: BackendName): Promise<string> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    const specifier = NATIVE_PACKAGES[name];
    await import(specifier);
    // Both native packages register themselves under the name 'tensorflow'.
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${specifier} loaded but its backend failed to initialise`);
    return 'tensorflow';
  }
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  else await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend failed to initialise`);
  return name;
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

let selection: Promise<BackendChoice> | undefined;
let selectionKey: string | undefined;

/**
 * Selects the backend once per process; later calls with the same preference return the same
 * choice, because switching backends mid-run would strand every tensor on the old one.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  const key = options.preferred ?? 'auto';
  if (selection !== undefined) {
    if (selectionKey !== key) {
      return selection.then((choice) => {
        if (options.preferred !== undefined && choice.name !== options.preferred) {
          throw new Error(`TF.js backend already initialised as ${choice.name}; cannot switch to ${options.preferred}`);
        }
        return choice;
      });
    }
    return selection;
  }
  selectionKey = key;
  selection = select(options);
  return selection;
}

async function select(options: InitBackendOptions): Promise<BackendChoice> {
  registerGradients();
  const log = options.log ?? ((message: string) => console.error(message));
  const candidates = options.preferred === undefined ? BACKEND_ORDER : [options.preferred];
  const skipped: BackendChoice['skipped'] = [];
  for (const name of candidates) {
    try {
      const tfName = await tryLoad(name);
      await tf.ready();
      // The native backends batch their products well; WASM and the JS CPU backend do not.
      if (name === 'wasm' || name === 'cpu') await loadBatchedMatMulKernel();
      const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
      const how = options.preferred === undefined ? '' : ' (RECO_TF_BACKEND)';
      log(`[reco/model] TF.js backend: ${name}${how}${why === '' ? '' : ` (skipped ${why})`}`);
      return { name, tfName, skipped };
    } catch (error) {
      skipped.push({ name, reason: describe(error) });
    }
  }
  const reasons = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new Error(`no TF.js backend could be loaded (${reasons})`);
}
