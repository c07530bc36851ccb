import { createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Backbone } from '../backbone.js';
import { TfjsBackboneRunner } from '../backbone-runner.js';
import { BACKBONE_ENGINES, createBackboneRunner, isBackboneEngine } from './create-runner.js';
import { type OnnxRuntimeModule, OrtBackboneRunner, loadOnnxRuntime } from './ort-runner.js';

const config = { numItems: 10, dim: 8, blocks: 2, heads: 2, maxLen: 6, ffnDim: 16, layerNormEpsilon: 1e-5 };
let backbone: Backbone;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  backbone = Backbone.random(config, createRng(6));
});

afterAll(() => backbone.dispose());

/** What a machine without a loadable binding does: the import itself throws. */
const brokenOrt = (): Promise<OnnxRuntimeModule> => Promise.reject(new Error('libonnxruntime.so.1: cannot open shared object file\n(details)'));

/** A binding that loads but whose sessions cannot run: the smoke run must catch it. */
async function ortThatCannotRun(): Promise<OnnxRuntimeModule> {
  const real = await loadOnnxRuntime();
  const create = async (...args: Parameters<typeof real.InferenceSession.create>) => {
    const session = await real.InferenceSession.create(...args);
    return new Proxy(session, {
      get(target, key, receiver) {
        if (key === 'run') return () => Promise.reject(new Error('simulated kernel failure'));
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return { ...real, InferenceSession: { ...real.InferenceSession, create } } as OnnxRuntimeModule;
}

function collector() {
  const messages: string[] = [];
  return { messages, log: (m: string) => void messages.push(m) };
}

describe('isBackboneEngine', () => {
  it('accepts exactly auto, onnx and tfjs', () => {
    expect(BACKBONE_ENGINES).toEqual(['auto', 'onnx', 'tfjs']);
    for (const e of BACKBONE_ENGINES) expect(isBackboneEngine(e)).toBe(true);
    for (const e of ['', 'ort', 'ONNX', 'wasm']) expect(isBackboneEngine(e)).toBe(false);
  });
});

describe('createBackboneRunner', () => {
  it('auto picks ONNX Runtime when it loads and runs, and says so', async () => {
    const { messages, log } = collector();
    const choice = await createBackboneRunner(backbone, { engine: 'auto', threads: 1, log });
    expect(choice.engine).toBe('onnx');
    expect(choice.fallbackReason).toBeUndefined();
    expect(choice.runner).toBeInstanceOf(OrtBackboneRunner);
    expect(messages).toEqual(['[reco/model] backbone runner: ONNX Runtime (cpu, 1 thread)']);
    choice.runner.dispose();
  });

  it('runs on the first configured execution provider that loads, logging each one passed over', async () => {
    const { messages, log } = collector();
    const choice = await createBackboneRunner(backbone, { engine: 'auto', threads: 1, providers: ['cuda', 'cpu'], log });
    expect(choice.engine).toBe('onnx');
    const runner = choice.runner as OrtBackboneRunner;
    expect(messages.at(-1)).toBe(`[reco/model] backbone runner: ONNX Runtime (${runner.provider}, 1 thread)`);
    // Without the CUDA libraries (this machine) the run is on cpu, and the log says why.
    if (runner.provider === 'cpu') expect(messages[0]).toMatch(/^\[reco\/model\] ONNX Runtime provider cuda unavailable \(.+\); trying cpu$/);
    else expect(runner.provider).toBe('cuda');
    runner.dispose();
  });

  it('auto falls back to TF.js when onnxruntime-node cannot load, passing the reason to log', async () => {
    const { messages, log } = collector();
    const choice = await createBackboneRunner(backbone, { engine: 'auto', log, loadOrt: brokenOrt });
    expect(choice.engine).toBe('tfjs');
    expect(choice.runner).toBeInstanceOf(TfjsBackboneRunner);
    expect(choice.fallbackReason).toBe('libonnxruntime.so.1: cannot open shared object file');
    expect(messages).toEqual(['[reco/model] ONNX Runtime unavailable (libonnxruntime.so.1: cannot open shared object file); using the TF.js runner']);
    const out = await choice.runner.run({ ids: new Int32Array([0, 0, 0, 0, 2, 3]), batchSize: 1, maxLen: 6 });
    expect(out.userState).toHaveLength(8);
  });

  it('auto falls back when ORT loads but fails the one-row smoke run', async () => {
    const { messages, log } = collector();
    const choice = await createBackboneRunner(backbone, { engine: 'auto', log, loadOrt: ortThatCannotRun });
    expect(choice.engine).toBe('tfjs');
    expect(choice.fallbackReason).toBe('simulated kernel failure');
    expect(messages[0]).toMatch(/ONNX Runtime unavailable \(simulated kernel failure\); using the TF\.js runner/);
  });

  it('onnx fails loudly instead of falling back', async () => {
    const { messages, log } = collector();
    const failure = createBackboneRunner(backbone, { engine: 'onnx', log, loadOrt: brokenOrt });
    await expect(failure).rejects.toThrow('ONNX Runtime backbone runner failed: libonnxruntime.so.1: cannot open shared object file');
    await expect(failure).rejects.toHaveProperty('cause.message', expect.stringContaining('(details)'));
    await expect(createBackboneRunner(backbone, { engine: 'onnx', log, loadOrt: ortThatCannotRun })).rejects.toThrow(/simulated kernel failure/);
    expect(messages).toEqual([]);
    const ok = await createBackboneRunner(backbone, { engine: 'onnx', log });
    expect(ok.engine).toBe('onnx');
    ok.runner.dispose();
  });

  it('tfjs never touches ONNX Runtime', async () => {
    const { messages, log } = collector();
    let loads = 0;
    const choice = await createBackboneRunner(backbone, {
      engine: 'tfjs',
      log,
      loadOrt: () => {
        loads++;
        return brokenOrt();
      },
    });
    expect(choice).toMatchObject({ engine: 'tfjs' });
    expect(choice.runner).toBeInstanceOf(TfjsBackboneRunner);
    expect(loads).toBe(0);
    expect(messages).toEqual(['[reco/model] backbone runner: TF.js']);
  });

  it('refuses an unknown engine name (e.g. from untyped config)', async () => {
    await expect(createBackboneRunner(backbone, { engine: 'ort' as 'onnx', log: () => undefined })).rejects.toThrow(/unknown backbone engine ort/);
  });
});
