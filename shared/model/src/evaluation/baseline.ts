/**
 * A classic recommender that every accuracy figure stands beside. It learns by counting, so
 * offline fitting and online learning are the same call: `learn(history, target)` once per
 * event, in time order (the first event of a user has an empty history).
 */
export interface Baseline {
  /** Stable name for tables and JSON, e.g. `popularity`. */
  readonly name: string;
  /** What it is, for the report's protocol notes. */
  readonly description: string;
  /** Writes a score for every slot of `out` (higher is better); `history` is oldest first. */
  score(history: readonly number[], out: Float32Array): void;
  learn(history: readonly number[], target: number): void;
}

/**
 * Counting scorers rank many items equal (every item never seen with the last one scores 0).
 * Popularity breaks those ties, scaled below 1 so it never outweighs a single co-occurrence:
 * otherwise a tie would be broken at random and the baseline would look weaker than it is.
 */
export class PopularityTieBreak {
  private counts = new Float32Array(1024);
  private total = 0;

  add(slot: number): void {
    if (slot >= this.counts.length) {
      const grown = new Float32Array(Math.max(slot + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[slot] = (this.counts[slot] as number) + 1;
    this.total++;
  }

  count(slot: number): number {
    return slot < this.counts.length ? (this.counts[slot] as number) : 0;
  }

  /** out[i] = scale * count(i) / (total + 1), i.e. strictly below `scale`. */
  fill(out: Float32Array, scale: number): void {
    const norm = scale / (this.total + 1);
    const n = Math.min(out.length, this.counts.length);
    for (let i = 0; i < n; i++) out[i] = (this.counts[i] as number) * norm;
    out.fill(0, n);
  }
}
