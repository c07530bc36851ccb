import type * as Ort from 'onnxruntime-node';
import type { OnnxRuntimeModule } from './ort-runner.js';

/**
 * How every ONNX Runtime session of the product is made (the backbone runner's and the item
 * ranker's): the intra-op threads and the execution providers, tried in order.
 */
export interface OrtSessionSettings {
  /** Intra-op threads: one call's kernels split across cores (see OrtBackboneRunnerOptions). */
  threads: number;
  /**
   * Execution providers, best first (RECO_ORT_PROVIDERS, e.g. `cuda,cpu`). A provider whose
   * library cannot load makes ONNX Runtime refuse the whole session rather than skip it, so
   * each is tried in turn with the rest of the list behind it, and the reason it was passed
   * over is logged (ONNX Runtime also prints its own error line for a library it cannot load).
   * Default `cpu`, the one provider bundled everywhere.
   */
  providers: readonly string[];
}

export const DEFAULT_ORT_PROVIDERS: readonly string[] = Object.freeze(['cpu']);

/** The providers named in RECO_ORT_PROVIDERS (comma-separated, case-insensitive); empty or unset is `cpu`. */
export function parseOrtProviders(raw: string | undefined): string[] {
  const names = (raw ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new RangeError(`RECO_ORT_PROVIDERS: "${name}" is not an execution provider name (e.g. cuda,cpu)`);
  }
  if (new Set(names).size !== names.length) throw new RangeError(`RECO_ORT_PROVIDERS lists a provider twice: ${names.join(',')}`);
  return names.length === 0 ? [...DEFAULT_ORT_PROVIDERS] : names;
}

export interface OrtSession {
  session: Ort.InferenceSession;
  /** The provider the session was created with first in its list: the one that runs it. */
  provider: string;
  /** Providers passed over before it, and why. */
  skipped: { provider: string; reason: string }[];
}

/**
 * A session for `model` on the first provider of `settings.providers` that ONNX Runtime can
 * create one with. Throws with every provider's reason when none can.
 */
export async function createOrtSession(
  ort: OnnxRuntimeModule,
  model: Uint8Array,
  settings: OrtSessionSettings,
  options: { sequential?: boolean; log?: (message: string) => void } = {},
): Promise<OrtSession> {
  if (!Number.isInteger(settings.threads) || settings.threads < 1) throw new RangeError(`ONNX Runtime threads must be a positive integer, got ${settings.threads}`);
  if (settings.providers.length === 0) throw new RangeError('ONNX Runtime needs at least one execution provider');
  const skipped: { provider: string; reason: string }[] = [];
  // ONNX Runtime silently drops a provider its build does not have, which would leave the
  // session on the next one while reporting the first: those are skipped here, by name.
  const built = new Set(ort.listSupportedBackends().map((b) => b.name.toLowerCase()));
  for (let i = 0; i < settings.providers.length; i++) {
    const providers = settings.providers.slice(i).filter((p) => built.has(p));
    const provider = settings.providers[i] as string;
    const next = settings.providers[i + 1];
    if (!built.has(provider)) {
      const reason = `not in this build of onnxruntime-node (it has ${[...built].join(', ')})`;
      skipped.push({ provider, reason });
      if (next !== undefined) options.log?.(`[reco/model] ONNX Runtime provider ${provider} unavailable (${reason}); trying ${next}`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [...providers],
        graphOptimizationLevel: 'all',
        ...(options.sequential === true ? { executionMode: 'sequential' as const } : {}),
        // Inter-op parallelism only helps graphs with independent branches; these are chains.
        interOpNumThreads: 1,
        intraOpNumThreads: settings.threads,
        // Idle pool threads block instead of spinning: with more runnable threads than cores (ORT
        // next to TF.js, Kafka and the other service), spinning workers stole the cores the run was
        // waiting for; measured on 2 busy cores, 2 threads at batch 256 went from ~53 ms to ~31 ms.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return { session, provider, skipped };
    } catch (error) {
      const reason = describe(error);
      skipped.push({ provider, reason });
      if (next !== undefined) options.log?.(`[reco/model] ONNX Runtime provider ${provider} unavailable (${reason}); trying ${next}`);
    }
  }
  throw new Error(`no ONNX Runtime execution provider could create a session: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`);
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
