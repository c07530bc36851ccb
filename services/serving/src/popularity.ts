export interface PopularItem {
  itemId: string;
  score: number;
}

/**
 * How many live clicks the pretraining counts are worth, spread over the items by their share of
 * them. Large enough that one click does not reorder every newcomer's answer (an item with 1% of
 * the pretraining clicks starts at 10, a click adds 1), small enough that a steady stream takes
 * over soon: at npm start's 20 clicks/s the live counts pass it in under a minute.
 */
export const DEFAULT_PRIOR_CLICKS = 1000;

export interface PopularityOptions {
  halfLifeMs: number;
  maxItems?: number;
  now?: () => number;
  /** Click counts from the backbone's pretraining log, by item id: what is popular before any live click. */
  prior?: ReadonlyMap<string, number> | undefined;
  priorClicks?: number;
}

/** Higher score first; ties go to the smaller id, so every replica answers in the same order. */
const before = (a: PopularItem, b: PopularItem): boolean => a.score > b.score || (a.score === b.score && a.itemId < b.itemId);

/**
 * Popularity for the fallback of users with no history: the pretraining counts, as a fixed prior,
 * plus exponentially decayed live interaction counts. Each live item keeps (value, time of last
 * update); reading decays to "now", so a burst an hour ago counts half as much as one now with a
 * one-hour half-life. Arrival time is used rather than event time, so a replayed or simulated stream
 * with old timestamps still ranks what is popular now. The prior never decays: it is what the
 * catalogue looks like when nobody is clicking.
 */
export class PopularityCounter {
  readonly #halfLifeMs: number;
  readonly #maxItems: number;
  readonly #now: () => number;
  readonly #items = new Map<string, { value: number; at: number }>();
  readonly #prior = new Map<string, number>();
  /** The prior's items, best first: a pass over them stops as soon as none can enter the answer. */
  readonly #priorOrder: PopularItem[] = [];

  constructor(options: PopularityOptions) {
    this.#halfLifeMs = options.halfLifeMs;
    this.#maxItems = options.maxItems ?? 100_000;
    this.#now = options.now ?? Date.now;
    let total = 0;
    for (const count of options.prior?.values() ?? []) if (Number.isFinite(count) && count > 0) total += count;
    const clicks = options.priorClicks ?? DEFAULT_PRIOR_CLICKS;
    for (const [itemId, count] of options.prior ?? []) {
      if (!(Number.isFinite(count) && count > 0)) continue;
      const score = (clicks * count) / total;
      this.#prior.set(itemId, score);
      this.#priorOrder.push({ itemId, score });
    }
    this.#priorOrder.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
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

  /**
   * The k most popular items now, best first, among those `accept` lets through. Only items with a
   * prior or a live click have a score: completing an answer with the rest of the catalogue is the
   * caller's business (see fallback.ts).
   */
  top(k: number, accept: (itemId: string) => boolean = () => true): PopularItem[] {
    const now = this.#now();
    // Partial selection into a sorted list of at most k (k <= 100): one pass over the live items,
    // then the prior's items in their order until the k-th kept one beats the next. No sort of the
    // catalogue on any fallback request.
    const best: PopularItem[] = [];
    const offer = (candidate: PopularItem): void => {
      const last = best[best.length - 1];
      if (best.length >= k && (last === undefined || !before(candidate, last))) return;
      let i = best.length;
      while (i > 0 && before(candidate, best[i - 1] as PopularItem)) i--;
      best.splice(i, 0, candidate);
      if (best.length > k) best.pop();
    };
    if (k <= 0) return best;
    for (const [itemId, entry] of this.#items) if (accept(itemId)) offer({ itemId, score: this.#decayed(entry, now) + (this.#prior.get(itemId) ?? 0) });
    for (const candidate of this.#priorOrder) {
      const last = best[best.length - 1];
      if (best.length >= k && last !== undefined && !before(candidate, last)) break;
      // A clicked item was scored above, prior included.
      if (!this.#items.has(candidate.itemId) && accept(candidate.itemId)) offer({ ...candidate });
    }
    return best;
  }

  /** Items with live clicks. */
  get size(): number {
    return this.#items.size;
  }

  /** Items with a pretraining count. */
  get priorSize(): number {
    return this.#prior.size;
  }

  #evictWeakest(now: number): void {
    // Rare (only past maxItems): a linear scan beats keeping a heap in step with decay. Only the
    // live part is bounded; an evicted item keeps its prior.
    let weakest: string | undefined;
    let low = Infinity;
    for (const [itemId, entry] of this.#items) {
      const v = this.#decayed(entry, now);
      if (v < low) [low, weakest] = [v, itemId];
    }
    if (weakest !== undefined) this.#items.delete(weakest);
  }
}
