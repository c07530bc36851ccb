export interface MicroBatchOptions {
  /** Rows per engine call at most; a full queue is flushed at once. Default 64. */
  maxBatch?: number;
  /**
   * How long a job may wait for the engine while a previous call is still running, before its
   * batch is started anyway (a second concurrent call). Default 2 ms.
   */
  maxWaitMs?: number;
  /** Called once per engine call with its row count and the longest queue wait in it (ms). */
  onBatch?: (rows: number, waitedMs: number) => void;
}

interface Waiting<Job, Result> {
  job: Job;
  rows: number;
  enqueuedAt: number;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * Micro-batching in front of an engine: concurrent jobs (one per HTTP request) become one engine
 * call, because one call over B rows costs far less than B calls. `execute` gets the jobs of one
 * batch, in submission order, and answers each, in the same order.
 *
 * When the engine is idle a batch starts on the next `setImmediate`, i.e. after every request
 * parsed in the same event-loop turn has queued: a lone job waits for nothing. While a call is
 * running, arrivals queue and go as one batch when it returns, or after `maxWaitMs` at the latest
 * (then as a second call beside the first), so the wait is bounded even under a slow call.
 * A job larger than `maxBatch` rows goes alone.
 */
export class MicroBatcher<Job, Result> {
  readonly #execute: (jobs: readonly Job[], rows: number) => Promise<readonly Result[]>;
  readonly #maxBatch: number;
  readonly #maxWaitMs: number;
  readonly #onBatch: ((rows: number, waitedMs: number) => void) | undefined;
  #queue: Waiting<Job, Result>[] = [];
  #queuedRows = 0;
  #inFlight = 0;
  #immediate: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #disposed = false;

  constructor(execute: (jobs: readonly Job[], rows: number) => Promise<readonly Result[]>, options: MicroBatchOptions = {}) {
    this.#execute = execute;
    this.#maxBatch = options.maxBatch ?? 64;
    this.#maxWaitMs = options.maxWaitMs ?? 2;
    this.#onBatch = options.onBatch;
    if (!Number.isInteger(this.#maxBatch) || this.#maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${this.#maxBatch}`);
    if (!(this.#maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0, got ${this.#maxWaitMs}`);
  }

  /** Queues `job` (of `rows` rows, counted against maxBatch) for the next batch. */
  submit(job: Job, rows: number): Promise<Result> {
    if (this.#disposed) return Promise.reject(new Error('micro-batcher used after dispose()'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, rows, enqueuedAt: performance.now(), resolve, reject });
      this.#queuedRows += rows;
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
    // Whole jobs up to maxBatch rows.
    let count = 0;
    let rows = 0;
    for (const next of this.#queue) {
      if (count > 0 && rows + next.rows > this.#maxBatch) break;
      count++;
      rows += next.rows;
    }
    const taken = this.#queue.splice(0, count);
    this.#queuedRows -= rows;
    void this.#run(taken, rows);
    if (this.#queue.length > 0) this.#schedule();
  }

  async #run(taken: Waiting<Job, Result>[], rows: number): Promise<void> {
    this.#inFlight++;
    const started = performance.now();
    let oldest = started;
    for (const w of taken) oldest = Math.min(oldest, w.enqueuedAt);
    this.#onBatch?.(rows, started - oldest);
    try {
      const results = await this.#execute(
        taken.map((w) => w.job),
        rows,
      );
      if (results.length !== taken.length) throw new Error(`engine answered ${results.length} of ${taken.length} jobs`);
      taken.forEach((w, i) => w.resolve(results[i] as Result));
    } catch (error) {
      for (const w of taken) w.reject(error);
    } finally {
      this.#inFlight--;
      // What queued during this call goes now rather than after its timer.
      if (this.#queue.length > 0 && this.#inFlight === 0) this.#flush();
    }
  }

  /** Fails whatever still waits with `reason`; later submits are refused. */
  dispose(reason = 'micro-batcher disposed'): void {
    this.#disposed = true;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const error = new Error(reason);
    for (const w of this.#queue.splice(0)) w.reject(error);
    this.#queuedRows = 0;
  }
}
