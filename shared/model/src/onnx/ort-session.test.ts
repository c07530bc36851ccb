import { describe, expect, it } from 'vitest';
import { buildItemRankerOnnx } from './ort-item-ranker.js';
import { type OnnxRuntimeModule, loadOnnxRuntime } from './ort-runner.js';
import { createOrtSession, parseOrtProviders } from './ort-session.js';

describe('parseOrtProviders (RECO_ORT_PROVIDERS)', () => {
  it('reads a comma-separated list, best first, and defaults to cpu', () => {
    expect(parseOrtProviders(undefined)).toEqual(['cpu']);
    expect(parseOrtProviders(' ')).toEqual(['cpu']);
    expect(parseOrtProviders('CUDA, cpu')).toEqual(['cuda', 'cpu']);
    expect(parseOrtProviders('tensorrt,,cuda,cpu')).toEqual(['tensorrt', 'cuda', 'cpu']);
  });

  it.each([
    ['cu da,cpu', 'is not an execution provider name'],
    ['cuda,cpu,cuda', 'lists a provider twice'],
  ])('refuses %j: %s', (raw, message) => {
    expect(() => parseOrtProviders(raw)).toThrow(message);
  });
});

/** An ONNX Runtime stand-in whose named providers fail to load, as a missing CUDA library does. */
function fakeOrt(failing: readonly string[], built = ['cpu', 'cuda', 'tensorrt']): { ort: OnnxRuntimeModule; tried: string[][] } {
  const tried: string[][] = [];
  const ort = {
    listSupportedBackends: () => built.map((name) => ({ name, bundled: name === 'cpu' })),
    InferenceSession: {
      create: async (_model: Uint8Array, options: { executionProviders: string[] }) => {
        tried.push([...options.executionProviders]);
        const first = options.executionProviders[0] as string;
        if (failing.includes(first)) throw new Error(`OrtSessionOptionsAppendExecutionProvider_${first}: Failed to load shared library\nstack`);
        return { inputNames: [], outputNames: [], release: async () => undefined };
      },
    },
  } as unknown as OnnxRuntimeModule;
  return { ort, tried };
}

describe('createOrtSession', () => {
  it('falls back along the list, logging why each provider was passed over', async () => {
    const { ort, tried } = fakeOrt(['cuda']);
    const logged: string[] = [];
    const got = await createOrtSession(ort, new Uint8Array(0), { threads: 1, providers: ['rocm', 'cuda', 'cpu'] }, { log: (m) => logged.push(m) });
    expect(got.provider).toBe('cpu');
    expect(got.skipped.map((s) => s.provider)).toEqual(['rocm', 'cuda']);
    expect(got.skipped[0]?.reason).toContain('not in this build');
    expect(got.skipped[1]?.reason).toBe('OrtSessionOptionsAppendExecutionProvider_cuda: Failed to load shared library');
    // A provider the build lacks is never handed to ONNX Runtime (it would drop it silently).
    expect(tried).toEqual([['cuda', 'cpu'], ['cpu']]);
    expect(logged).toEqual([expect.stringContaining('provider rocm unavailable'), expect.stringContaining('provider cuda unavailable (OrtSessionOptionsAppendExecutionProvider_cuda')]);
    expect(logged[1]).toContain('trying cpu');
  });

  it('uses the first provider that works, and names every reason when none does', async () => {
    expect((await createOrtSession(fakeOrt([]).ort, new Uint8Array(0), { threads: 2, providers: ['cuda', 'cpu'] })).provider).toBe('cuda');
    await expect(createOrtSession(fakeOrt(['cuda', 'cpu']).ort, new Uint8Array(0), { threads: 1, providers: ['cuda', 'cpu'] })).rejects.toThrow(
      /no ONNX Runtime execution provider could create a session: cuda: .*Failed to load shared library; cpu: /,
    );
    await expect(createOrtSession(fakeOrt([]).ort, new Uint8Array(0), { threads: 0, providers: ['cpu'] })).rejects.toThrow(RangeError);
  });

  it('on the real runtime, a GPU list ends on a provider that runs the model, having named each one it skipped', async () => {
    const ort = await loadOnnxRuntime();
    const providers = ['tensorrt', 'cuda', 'cpu'];
    const got = await createOrtSession(ort, buildItemRankerOnnx(4), { threads: 1, providers });
    try {
      // On a machine without the GPU libraries (this one) that is cpu, after two reasons.
      expect(got.skipped.map((s) => s.provider)).toEqual(providers.slice(0, providers.indexOf(got.provider)));
      for (const s of got.skipped) expect(s.reason.length).toBeGreaterThan(0);
      const out = await got.session.run({
        user_state: new ort.Tensor('float32', Float32Array.from([1, 0, 0, 0]), [1, 4]),
        item_table_t: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]), [4, 3]),
        item_bias: new ort.Tensor('float32', new Float32Array(3), [3]),
        k: new ort.Tensor('int64', BigInt64Array.from([2n]), [1]),
      });
      expect(Object.keys(out).length).toBeGreaterThan(0);
    } finally {
      await got.session.release();
    }
  });
});
