import { MicroBatcher, type MicroBatchOptions } from '../micro-batcher.js';
import type { ItemRanker, OrtItemRanker, RankedSlots, RankerTable } from './ort-item-ranker.js';

interface RankJob {
  /** The caller's user state, copied at submission. */
  state: Float32Array;
  table: RankerTable;
  k: number;
}

/**
 * Micro-batching in front of the ONNX Runtime ranker: the top-k calls of concurrent requests
 * become one call per model version's table, with the batch's largest k (each row is sorted, so a
 * request asking for fewer takes the head of its row). One call over B states costs far less than
 * B calls, because each call pays a fixed price to cross into the engine and back whatever the
 * arithmetic: compare `npm run bench:serve` with RECO_BATCH_MAX_SIZE=1 (no batching) against the
 * default in the README's performance section. The answers are the unbatched
 * ones to the bit (see OrtItemRanker.topRows).
 */
export class BatchingItemRanker implements ItemRanker {
  readonly dim: number;
  readonly #inner: OrtItemRanker;
  readonly #batcher: MicroBatcher<RankJob, RankedSlots>;

  constructor(inner: OrtItemRanker, options: MicroBatchOptions = {}) {
    this.#inner = inner;
    this.dim = inner.dim;
    this.#batcher = new MicroBatcher((jobs) => this.#rank(jobs), options);
  }

  table(table: Float32Array, bias: Float32Array): RankerTable {
    return this.#inner.table(table, bias);
  }

  top(h: Float32Array, table: RankerTable, k: number): Promise<RankedSlots> {
    if (h.length !== this.dim) return Promise.reject(new Error(`ranker expects a user state of ${this.dim}, got ${h.length}`));
    return this.#batcher.submit({ state: h.slice(), table, k }, 1);
  }

  async #rank(jobs: readonly RankJob[]): Promise<RankedSlots[]> {
    const d = this.dim;
    // Requests normally share one table; during a snapshot swap two versions' may meet in a batch.
    const groups = new Map<RankerTable, number[]>();
    jobs.forEach((job, i) => {
      const group = groups.get(job.table);
      if (group === undefined) groups.set(job.table, [i]);
      else group.push(i);
    });
    const answers = new Array<RankedSlots>(jobs.length);
    await Promise.all(
      [...groups].map(async ([table, members]) => {
        const states = new Float32Array(members.length * d);
        let k = 0;
        members.forEach((job, row) => {
          const { state, k: wanted } = jobs[job] as RankJob;
          states.set(state, row * d);
          k = Math.max(k, wanted);
        });
        const ranked = await this.#inner.topRows(states, members.length, table, k);
        members.forEach((job, row) => {
          const start = row * ranked.perRow;
          const take = Math.min(ranked.perRow, Math.max(0, Math.floor((jobs[job] as RankJob).k)));
          answers[job] = { slots: ranked.slots.subarray(start, start + take), scores: ranked.scores.subarray(start, start + take) };
        });
      }),
    );
    return answers;
  }

  /** Fails whatever still waits, then releases the inner ranker (this one owns it). */
  dispose(): void {
    this.#batcher.dispose('batching ranker disposed');
    this.#inner.dispose();
  }
}
