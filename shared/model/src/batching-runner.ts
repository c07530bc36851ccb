import type { BackboneRunOutput, BackboneRunner } from './backbone-runner.js';
import type { SequenceBatch } from './sequence-batch.js';

export interface BatchingRunnerOptions {
  /** Rows per engine call at most; a full queue is flushed at once. Default 64. */
  maxBatch?: number;
  /**
   * How long a request may wait for the engine while a previous call is still running, before
   * its batch is started anyway (a second concurrent call). Default 2 ms.
   */
  maxWaitMs?: number;
  /** Called once per engine call with its row count and the longest queue wait in it (ms). */
  onBatch?: (rows: number, waitedMs: number) => void;
}

interface Waiting {
  batch: SequenceBatch;
  enqueuedAt: number;
  resolve: (out: BackboneRunOutput) => void;
  reject: (error: unknown) => void;
}

/**
 * Micro-batching in front of a runner: concurrent `run` calls (one per HTTP request) become one
 * engine call over all their rows, because one call over B rows costs far less than B calls.
 *
 * When the engine is idle a batch starts on the next `setImmediate`, i.e. after every request
 * parsed in the same event-loop turn has queued: a lone request waits for nothing. While a call is
 * running, arrivals queue and go as one batch when it returns, or after `maxWaitMs` at the latest
 * (then as a second call beside the first), so the wait is bounded even under a slow call.
 */
export class BatchingBackboneRunner implements BackboneRunner {
  readonly dim: number;
  readonly blocks: number;
  readonly maxLen: number;
  readonly #inner: BackboneRunner;
  readonly #maxBatch: number;
  readonly #maxWaitMs: number;
  readonly #onBatch: ((rows: number, waitedMs: number) => void) | undefined;
  #queue: Waiting[] = [];
  #queuedRows = 0;
  #inFlight = 0;
  #immediate: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #disposed = false;

  constructor(inner: BackboneRunner, options: BatchingRunnerOptions = {}) {
    this.#inner = inner;
    this.dim = inner.dim;
    this.blocks = inner.blocks;
    this.maxLen = inner.maxLen;
    this.#maxBatch = options.maxBatch ?? 64;
    this.#maxWaitMs = options.maxWaitMs ?? 2;
    this.#onBatch = options.onBatch;
    if (!Number.isInteger(this.#maxBatch) || this.#maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${this.#maxBatch}`);
    if (!(this.#maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0, got ${this.#maxWaitMs}`);
  }

  run(batch: SequenceBatch): Promise<BackboneRunOutput> {
    if (this.#disposed) return Promise.reject(new Error('batching runner used after dispose()'));
    if (batch.maxLen !== this.maxLen) return Promise.reject(new Error(`runner expects sequences of length ${this.maxLen}, got ${batch.maxLen}`));
    if (batch.batchSize === 0) return Promise.resolve({ batchSize: 0, dim: this.dim, userState: new Float32Array(0), blockOutputs: Array.from({ length: this.blocks }, () => new Float32Array(0)) });
    return new Promise((resolve, reject) => {
      this.#queue.push({ batch, enqueuedAt: performance.now(), resolve, reject });
      this.#queuedRows += batch.batchSize;
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#queuedRows >= this.#maxBatch) {
      this.#flush();
      return;
    }
    if (this.#inFlight === 0) {
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        if (this.#inFlight === 0) this.#flush();
      });
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, this.#maxWaitMs);
    }
  }

  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#queue.length === 0) return;
    // Take whole requests up to maxBatch rows (a single larger request goes alone).
    const taken: Waiting[] = [];
    let rows = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Waiting;
      if (taken.length > 0 && rows + next.batch.batchSize > this.#maxBatch) break;
      taken.push(next);
      this.#queue.shift();
      rows += next.batch.batchSize;
    }
    this.#queuedRows -= rows;
    void this.#execute(taken, rows);
    if (this.#queue.length > 0) this.#schedule();
  }

  async #execute(taken: Waiting[], rows: number): Promise<void> {
    this.#inFlight++;
    const started = performance.now();
    this.#onBatch?.(rows, started - Math.min(...taken.map((w) => w.enqueuedAt)));
    try {
      const out = await this.#inner.run(taken.length === 1 ? (taken[0] as Waiting).batch : concat(taken.map((w) => w.batch), rows, this.maxLen));
      let row = 0;
      for (const w of taken) {
        w.resolve(taken.length === 1 ? out : slice(out, row, w.batch.batchSize));
        row += w.batch.batchSize;
      }
    } catch (error) {
      for (const w of taken) w.reject(error);
    } finally {
      this.#inFlight--;
      // What queued during this call goes now rather than after its timer.
      if (this.#queue.length > 0 && this.#inFlight === 0) this.#flush();
    }
  }

  /** Fails whatever still waits; the inner runner belongs to the caller. */
  dispose(): void {
    this.#disposed = true;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const error = new Error('batching runner disposed');
    for (const w of this.#queue.splice(0)) w.reject(error);
    this.#queuedRows = 0;
  }
}

function concat(batches: SequenceBatch[], rows: number, maxLen: number): SequenceBatch {
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
