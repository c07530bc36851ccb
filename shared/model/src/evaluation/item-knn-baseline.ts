import { type Baseline, PopularityTieBreak } from './baseline.js';
import { PairCounts } from './pair-counts.js';

export interface ItemKnnOptions {
  /** Two clicks of a user co-occur when at most this many events apart. */
  window?: number;
  /** How many of the user's most recent items vote for the candidates. */
  recent?: number;
}

export const DEFAULT_ITEM_KNN = { window: 50, recent: 10 } as const;

/**
 * Item-based kNN over co-occurrence: sim(a, b) = C(a, b) / sqrt(n_a n_b), cosine over the users'
 * click windows, and a user's score for b sums sim(h, b) over their recent items h.
 *
 * Co-occurrence is counted within a window of recent events rather than over whole user
 * histories: that is what "over the recent history" means for a sequential log, it keeps the
 * pair count linear in the log (a 2,000-rating user would add 4 million pairs otherwise), and
 * it is what an online counter can update after each click.
 */
export class ItemKnnBaseline implements Baseline {
  readonly name = 'item-knn';
  private readonly window: number;
  private recent: number;
  private readonly pairs = new PairCounts();
  private readonly popularity = new PopularityTieBreak();

  constructor(options: ItemKnnOptions = {}) {
    this.window = options.window ?? DEFAULT_ITEM_KNN.window;
    this.recent = options.recent ?? DEFAULT_ITEM_KNN.recent;
    if (!(Number.isInteger(this.window) && this.window >= 1)) throw new RangeError(`window must be a positive integer, got ${this.window}`);
    checkRecent(this.recent);
  }

  get description(): string {
    return `item-kNN: cosine co-occurrence within ${this.window} events, summed over the last ${this.recent} items, popularity breaks ties`;
  }

  /** How many recent items vote; only scoring reads it, so it can be tuned without refitting. */
  get recentItems(): number {
    return this.recent;
  }

  set recentItems(n: number) {
    checkRecent(n);
    this.recent = n;
  }

  score(history: readonly number[], out: Float32Array): void {
    // Below 1e-3 so popularity only orders what the similarities leave tied.
    this.popularity.fill(out, 1e-3);
    const from = Math.max(0, history.length - this.recent);
    const voted = new Set<number>();
    for (let i = from; i < history.length; i++) {
      const a = history[i] as number;
      if (voted.has(a)) continue;
      voted.add(a);
      const na = this.popularity.count(a);
      if (na === 0) continue;
      this.pairs.forEachOf(a, (b, count) => {
        if (b < out.length) out[b] = (out[b] as number) + count / Math.sqrt(na * Math.max(this.popularity.count(b), 1));
      });
    }
  }

  learn(history: readonly number[], target: number): void {
    const from = Math.max(0, history.length - this.window);
    const paired = new Set<number>();
    for (let i = from; i < history.length; i++) {
      const a = history[i] as number;
      if (a === target || paired.has(a)) continue;
      paired.add(a);
      this.pairs.add(a, target);
      this.pairs.add(target, a);
    }
    this.popularity.add(target);
  }
}

function checkRecent(n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`recent must be a positive integer, got ${n}`);
}
