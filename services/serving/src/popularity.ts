/**
 * Exponentially decayed interaction counts per item, for the fallback of users with no history.
 * Each item keeps (value, time of last update); reading decays to "now", so a burst an hour ago
 * counts half as much as one now with a one-hour half-life. Arrival time is used rather than event
 * time, so a replayed or simulated stream with old timestamps still ranks what is popular now.
 */
export class PopularityCounter {
  readonly #halfLifeMs: number;
  readonly #maxItems: number;
  readonly #now: () => number;
  readonly #items = new Map<string, { value: number; at: number }>();

  constructor(options: { halfLifeMs: number; maxItems?: number; now?: () => number }) {
    this.#halfLifeMs = options.halfLifeMs;
    this.#maxItems = options.maxItems ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  #decayed(entry: { value: number; at: number }, now: number): number {
    return entry.value * Math.pow(0.5, Math.max(0, now - entry.at) / this.#halfLifeMs);
  }

  add(itemId: string, weight = 1): void {
    const now = this.#now();
    const entry = this.#items.get(itemId);
    this.#items.set(itemId, { value: (entry === undefined ? 0 : this.#decayed(entry, now)) + weight, at: now });
    if (this.#items.size > this.#maxItems) this.#evictWeakest(now);
  }

  /** The k most popular items now, best first, skipping `exclude`; ties go to the smaller id. */
  top(k: number, exclude: ReadonlySet<string> = new Set()): { itemId: string; score: number }[] {
    const now = this.#now();
    const before = (a: { itemId: string; score: number }, b: { itemId: string; score: number }): boolean => a.score > b.score || (a.score === b.score && a.itemId < b.itemId);
    // Partial selection into a sorted list of at most k (k <= 100): one pass over the items, no
    // sort of the whole table on every fallback request.
    const best: { itemId: string; score: number }[] = [];
    for (const [itemId, entry] of this.#items) {
      if (exclude.has(itemId)) continue;
      const candidate = { itemId, score: this.#decayed(entry, now) };
      const last = best[best.length - 1];
      if (best.length >= k && (last === undefined || !before(candidate, last))) continue;
      let i = best.length;
      while (i > 0 && before(candidate, best[i - 1] as { itemId: string; score: number })) i--;
      best.splice(i, 0, candidate);
      if (best.length > k) best.pop();
    }
    return best;
  }

  get size(): number {
    return this.#items.size;
  }

  #evictWeakest(now: number): void {
    // Rare (only past maxItems): a linear scan beats keeping a heap in step with decay.
    let weakest: string | undefined;
    let low = Infinity;
    for (const [itemId, entry] of this.#items) {
      const v = this.#decayed(entry, now);
      if (v < low) [low, weakest] = [v, itemId];
    }
    if (weakest !== undefined) this.#items.delete(weakest);
  }
}
