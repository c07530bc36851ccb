import type { BackboneRunOutput, BackboneRunner } from './backbone-runner.js';
import { MicroBatcher, type MicroBatchOptions } from './micro-batcher.js';
import type { SequenceBatch } from './sequence-batch.js';

export type BatchingRunnerOptions = MicroBatchOptions;

/**
 * Micro-batching in front of a runner: concurrent `run` calls (one per HTTP request) become one
 * engine call over all their rows (the queueing rules are MicroBatcher's), and each caller gets
 * its own rows of the output back, as views.
 */
export class BatchingBackboneRunner implements BackboneRunner {
  readonly dim: number;
  readonly blocks: number;
  readonly maxLen: number;
  readonly #batcher: MicroBatcher<SequenceBatch, BackboneRunOutput>;
  #disposed = false;

  constructor(inner: BackboneRunner, options: BatchingRunnerOptions = {}) {
    this.dim = inner.dim;
    this.blocks = inner.blocks;
    this.maxLen = inner.maxLen;
    this.#batcher = new MicroBatcher(async (batches, rows) => {
      if (batches.length === 1) return [await inner.run(batches[0] as SequenceBatch)];
      const out = await inner.run(concat(batches, rows, this.maxLen));
      let row = 0;
      return batches.map((b) => {
        const part = slice(out, row, b.batchSize);
        row += b.batchSize;
        return part;
      });
    }, options);
  }

  run(batch: SequenceBatch): Promise<BackboneRunOutput> {
    if (this.#disposed) return Promise.reject(new Error('batching runner used after dispose()'));
    if (batch.maxLen !== this.maxLen) return Promise.reject(new Error(`runner expects sequences of length ${this.maxLen}, got ${batch.maxLen}`));
    if (batch.batchSize === 0) return Promise.resolve({ batchSize: 0, dim: this.dim, userState: new Float32Array(0), blockOutputs: Array.from({ length: this.blocks }, () => new Float32Array(0)) });
    return this.#batcher.submit(batch, batch.batchSize);
  }

  /** Fails whatever still waits; the inner runner belongs to the caller. */
  dispose(): void {
    this.#disposed = true;
    this.#batcher.dispose('batching runner disposed');
  }
}

function concat(batches: readonly SequenceBatch[], rows: number, maxLen: number): SequenceBatch {
  const ids = new Int32Array(rows * maxLen);
  let offset = 0;
  for (const b of batches) {
    ids.set(b.ids, offset);
    offset += b.ids.length;
  }
  return { ids, batchSize: rows, maxLen };
}

/** Rows [start, start + count) of an output, as views (no copy). */
function slice(out: BackboneRunOutput, start: number, count: number): BackboneRunOutput {
  const d = out.dim;
  const view = (a: Float32Array): Float32Array => a.subarray(start * d, (start + count) * d);
  return { batchSize: count, dim: d, userState: view(out.userState), blockOutputs: out.blockOutputs.map(view) };
}
