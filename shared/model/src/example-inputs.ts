import type { AdaptationMethod, PreparedInput } from './adaptation/adaptation-method.js';
import { LadderMethod } from './adaptation/ladder.js';
import type { BackboneRunOutput } from './backbone-runner.js';
import { encodeSequences } from './sequence-batch.js';

/** What a method needs of a training example to build its input. */
export interface ExampleInput {
  history: number[];
  /** Ladder only: the frozen backbone's last-position outputs [userState, ...blocks], once computed. */
  features?: Float32Array[];
}

/**
 * Inputs for a list of examples. The ladder's backbone outputs never change for a given history
 * (the backbone is frozen), so with `cache` they are stored on the example when it is first
 * scored and every later training or holdout pass reuses them; the other methods must rerun the
 * backbone inside their tape every time, which is the cost Ladder avoids.
 */
export async function prepareExamples(method: AdaptationMethod, examples: readonly ExampleInput[], cache: boolean): Promise<PreparedInput> {
  const batch = encodeSequences(
    examples.map((e) => e.history),
    method.catalogue,
    method.backbone.config.maxLen,
  );
  if (!(method instanceof LadderMethod)) return method.prepare(batch);
  if (!examples.every((e) => e.features !== undefined)) {
    const out = await method.runner.run(batch);
    if (cache) examples.forEach((e, row) => (e.features = rowsOf(out, row)));
    return method.prepareFromRunOutput(out);
  }
  return method.prepareFromRunOutput(stackRows(examples.map((e) => e.features as Float32Array[]), method.backbone.config.dim));
}

function rowsOf(out: BackboneRunOutput, row: number): Float32Array[] {
  const d = out.dim;
  return [out.userState, ...out.blockOutputs].map((a) => a.slice(row * d, (row + 1) * d));
}

function stackRows(rows: Float32Array[][], dim: number): BackboneRunOutput {
  const n = rows.length;
  const parts = rows[0]?.length ?? 1;
  const arrays = Array.from({ length: parts }, () => new Float32Array(n * dim));
  rows.forEach((r, i) => r.forEach((a, p) => arrays[p]?.set(a, i * dim)));
  const [userState, ...blockOutputs] = arrays as [Float32Array, ...Float32Array[]];
  return { batchSize: n, dim, userState, blockOutputs };
}
