import { PairCounts } from './evaluation/pair-counts.js';

export interface CoVisitOptions {
  /** Two clicks of a user co-occur when at most this many events apart. */
  window?: number;
  /** How many of the user's most recent items vote for the candidates. */
  recent?: number;
  /**
   * Most distinct pairs held. Past it every count is halved and the pairs left below one are
   * dropped: memory stays bounded on an endless stream, and old co-visits fade as new ones come.
   */
  maxPairs?: number;
}

// A pair costs an index slot (8 + 4 bytes) and an entry (4 + 4 + 4), each array with up to 2x
// growth slack: 2 million pairs are of the order of 100 MB. `pairCount` says what a log makes.
export const DEFAULT_CO_VISITS = { window: 50, recent: 10, maxPairs: 2_000_000 } as const;

/** A few scored slots, best first: what a history's co-visits say, kept short. */
export interface SparseScores {
  slots: Int32Array;
  values: Float32Array;
}

export const NO_SCORES: SparseScores = Object.freeze({ slots: new Int32Array(0), values: new Float32Array(0) });

/**
 * Item co-visitation counts over a click stream, and the cosine item-kNN score they give a
 * history: sim(a, b) = C(a, b) / sqrt(n_a n_b), summed over the history's last `recent` distinct
 * items. The one owner of this counting: the item-kNN baseline ranks with it, and the adapting
 * methods read it as a memory beside the backbone (see CoVisitMemory).
 *
 * Co-occurrence is counted within a window of recent events rather than over whole user
 * histories: that is what "over the recent history" means for a sequential log, it keeps the
 * pair count linear in the log (a 2,000-rating user would add 4 million pairs otherwise), and
 * it is what an online counter can update after each click.
 */
export class CoVisits {
  readonly window: number;
  private recentCount: number;
  readonly maxPairs: number;
  private pairs = new PairCounts();
  private counts = new Float32Array(1024);
  /** Zero between calls of `top`, which accumulates into it. */
  private scratch = new Float32Array(0);
  private valuesBuffer = new Float32Array(0);
  /** Per slot, the last call that saw it: which items a window already paired or voted, without a Set per call. */
  private seen = new Int32Array(1024);
  private stamp = 0;

  constructor(options: CoVisitOptions = {}) {
    this.window = options.window ?? DEFAULT_CO_VISITS.window;
    this.recentCount = options.recent ?? DEFAULT_CO_VISITS.recent;
    if (!(Number.isInteger(this.window) && this.window >= 1)) throw new RangeError(`window must be a positive integer, got ${this.window}`);
    checkRecent(this.recentCount);
    this.maxPairs = options.maxPairs ?? DEFAULT_CO_VISITS.maxPairs;
    if (!((Number.isInteger(this.maxPairs) || this.maxPairs === Number.POSITIVE_INFINITY) && this.maxPairs >= 1)) throw new RangeError(`maxPairs must be a positive integer or Infinity, got ${this.maxPairs}`);
  }

  /** How many recent items vote; only scoring reads it, so it can be changed without recounting. */
  get recent(): number {
    return this.recentCount;
  }

  set recent(n: number) {
    checkRecent(n);
    this.recentCount = n;
  }

  /** Distinct item pairs counted (each pair once per direction). */
  get pairCount(): number {
    return this.pairs.size;
  }

  /** Clicks counted on `slot`. */
  count(slot: number): number {
    return slot < this.counts.length ? (this.counts[slot] as number) : 0;
  }

  /** Counts one click: `target` co-occurs with each distinct item of the last `window` of `history`. */
  learn(history: readonly number[], target: number): void {
    const from = Math.max(0, history.length - this.window);
    const stamp = this.nextStamp(history, from);
    for (let i = from; i < history.length; i++) {
      const a = history[i] as number;
      if (a === target || this.seen[a] === stamp) continue;
      this.seen[a] = stamp;
      this.pairs.add(a, target);
      this.pairs.add(target, a);
    }
    if (target >= this.counts.length) {
      const grown = new Float32Array(Math.max(target + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[target] = (this.counts[target] as number) + 1;
    if (this.pairs.size > this.maxPairs) this.halve();
  }

  /** Halves every count and drops the pairs that fall below one (see `maxPairs`). */
  private halve(): void {
    const kept = new PairCounts(this.pairs.size / 2);
    for (let a = 0; a < this.counts.length; a++) {
      this.pairs.forEachOf(a, (b, c) => {
        if (c >= 2) kept.add(a, b, c / 2);
      });
      this.counts[a] = (this.counts[a] as number) / 2;
    }
    this.pairs = kept;
  }

  /** Adds the history's score of every slot below out.length into `out`. */
  addScores(history: readonly number[], out: Float32Array): void {
    this.visit(history, out);
  }

  /**
   * The `limit` best-scored slots of a history (ties by slot), with their scores. Work is the
   * size of the voting items' neighbour lists, not the catalogue's: scores accumulate in a
   * scratch array and only the slots touched are reset and ranked.
   */
  top(history: readonly number[], limit: number): SparseScores {
    if (limit <= 0) return NO_SCORES;
    if (this.scratch.length < this.counts.length) this.scratch = new Float32Array(this.counts.length);
    const scratch = this.scratch;
    const touched: number[] = [];
    this.visit(history, scratch, touched);
    if (touched.length === 0) return NO_SCORES;
    const order = touched.length > limit ? selectTop(touched, scratch, limit, this.values()) : touched;
    order.sort((x, y) => (scratch[y] as number) - (scratch[x] as number) || x - y);
    const out = { slots: Int32Array.from(order), values: Float32Array.from(order, (b) => scratch[b] as number) };
    for (const b of touched) scratch[b] = 0;
    return out;
  }

  /** A scratch buffer for `selectTop` (scoring is synchronous: one call at a time). */
  private values(): Float32Array {
    if (this.valuesBuffer.length < this.scratch.length) this.valuesBuffer = new Float32Array(this.scratch.length);
    return this.valuesBuffer;
  }

  /** A fresh mark for one pass over history[from..], `seen` grown to cover its slots. */
  private nextStamp(history: readonly number[], from: number): number {
    let top = 0;
    for (let i = from; i < history.length; i++) top = Math.max(top, history[i] as number);
    if (top >= this.seen.length) {
      const grown = new Int32Array(Math.max(top + 1, this.seen.length * 2));
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.stamp === 0x7fffffff) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }

  /** out[b] += sim(a, b) over the history's last `recent` distinct items a (see `addCosines`). */
  private visit(history: readonly number[], out: Float32Array, touched?: number[]): void {
    const from = Math.max(0, history.length - this.recentCount);
    const stamp = this.nextStamp(history, from);
    for (let i = from; i < history.length; i++) {
      const a = history[i] as number;
      if (this.seen[a] === stamp) continue;
      this.seen[a] = stamp;
      const na = this.count(a);
      if (na === 0) continue;
      this.pairs.addCosines(a, na, this.counts, out, touched);
    }
  }
}

/**
 * The `limit` slots of `slots` (distinct) with the highest `scores`, ties to the lower slot, in
 * no order: the limit-th best score found by selection over a copy (linear; `values` is scratch
 * of at least slots.length), then every slot above it and the lowest-numbered of those at it.
 * The same set a heap ordered by (score, slot) would keep, in one pass plus a partition.
 */
function selectTop(slots: readonly number[], scores: Float32Array, limit: number, values: Float32Array): number[] {
  const n = slots.length;
  for (let i = 0; i < n; i++) values[i] = scores[slots[i] as number] as number;
  const threshold = kthLargest(values, n, limit);
  const out: number[] = [];
  const ties: number[] = [];
  for (const s of slots) {
    const v = scores[s] as number;
    if (v > threshold) out.push(s);
    else if (v === threshold) ties.push(s);
  }
  ties.sort((a, b) => a - b);
  for (let i = 0; out.length < limit && i < ties.length; i++) out.push(ties[i] as number);
  return out;
}

/** The k-th largest of values[0..n) (1-based k <= n), reordering them (Hoare selection). */
function kthLargest(values: Float32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) > pivot) i++;
      while ((values[j] as number) < pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i] = values[j] as number;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return values[want] as number;
  }
  return values[want] as number;
}

function checkRecent(n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`recent must be a positive integer, got ${n}`);
}
