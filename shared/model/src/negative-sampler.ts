import type { Rng } from '@reco/data';

export interface NegativeSamplerOptions {
  rng: Rng;
  /** Slots in the score vector; valid slots are [firstValidSlot, numSlots). */
  numSlots: number;
  /** First slot that is a real item, e.g. 1 to skip the padding slot 0. */
  firstValidSlot: number;
}

/** The number of sampled negatives of the 'sampled-100' protocol. */
export const EVALUATION_NEGATIVES = 100;

/**
 * Uniform negative sampling over the catalogue's valid slots.
 *
 * Uniform rather than popularity-weighted on purpose: the sampled-100 evaluation protocol is
 * defined with uniform negatives, and for training the side bias of every item is what learns
 * popularity, which a popularity-weighted sampler would partly cancel out.
 *
 * The catalogue grows online (a new item gets a slot in the side table), so the valid range
 * can be widened with {@link grow}; it never shrinks, because a slot once handed out keeps
 * meaning some item.
 */
export class NegativeSampler {
  private readonly rng: Rng;
  private readonly firstValidSlot: number;
  private slots: number;

  constructor(opts: NegativeSamplerOptions) {
    if (!Number.isInteger(opts.firstValidSlot) || opts.firstValidSlot < 0) {
      throw new RangeError(`firstValidSlot must be a non-negative integer, got ${opts.firstValidSlot}`);
    }
    if (!Number.isInteger(opts.numSlots) || opts.numSlots < opts.firstValidSlot) {
      throw new RangeError(`numSlots must be an integer >= firstValidSlot (${opts.firstValidSlot}), got ${opts.numSlots}`);
    }
    this.rng = opts.rng;
    this.firstValidSlot = opts.firstValidSlot;
    this.slots = opts.numSlots;
  }

  get numSlots(): number {
    return this.slots;
  }

  /** How many slots can be drawn at all (before exclusions). */
  get validSlots(): number {
    return this.slots - this.firstValidSlot;
  }

  /** Widen the catalogue to `numSlots` slots; a smaller value is an error, not a no-op. */
  grow(numSlots: number): void {
    if (!Number.isInteger(numSlots) || numSlots < this.slots) {
      throw new RangeError(`the catalogue only grows: have ${this.slots} slots, asked for ${numSlots}`);
    }
    this.slots = numSlots;
  }

  /**
   * Training negatives: exactly `n` slots, never an excluded one, all distinct whenever at
   * least `n` slots are eligible. Only when fewer are eligible do repeats appear (every
   * eligible slot once, the rest drawn again uniformly), because a training step needs a fixed
   * number of negatives per example. Throws when no slot is eligible.
   */
  sample(n: number, exclude: ReadonlySet<number>): Int32Array {
    checkCount(n);
    const eligible = this.eligibleCount(exclude);
    if (n > 0 && eligible === 0) {
      throw new RangeError(`no slot left to sample: all ${this.validSlots} valid slots are excluded`);
    }
    const distinct = this.distinct(Math.min(n, eligible), eligible, exclude);
    if (distinct.length === n) return distinct;
    const out = new Int32Array(n);
    out.set(distinct);
    for (let i = distinct.length; i < n; i++) out[i] = distinct[this.rng.int(distinct.length)] ?? 0;
    return out;
  }

  /**
   * Negatives for the sampled-100 protocol: `count` distinct slots that are neither the target
   * nor in `seen`. Fewer when the catalogue cannot supply them; never repeats, because a repeated
   * negative would count twice against the target's rank.
   */
  sampleForEvaluation(target: number, seen: ReadonlySet<number>, count: number = EVALUATION_NEGATIVES): Int32Array {
    checkCount(count);
    const exclude = seen.has(target) ? seen : new Set(seen).add(target);
    const eligible = this.eligibleCount(exclude);
    return this.distinct(Math.min(count, eligible), eligible, exclude);
  }

  private isValid(slot: number): boolean {
    return Number.isInteger(slot) && slot >= this.firstValidSlot && slot < this.slots;
  }

  private eligibleCount(exclude: ReadonlySet<number>): number {
    let excluded = 0;
    for (const slot of exclude) if (this.isValid(slot)) excluded++;
    return this.validSlots - excluded;
  }

  /** `n` distinct eligible slots, n <= eligible. */
  private distinct(n: number, eligible: number, exclude: ReadonlySet<number>): Int32Array {
    const out = new Int32Array(n);
    if (n === 0) return out;
    // Rejection is O(n) while most draws land on an eligible, not-yet-drawn slot; past that
    // point its retries blow up, and one pass over the catalogue is the cheaper way.
    if ((eligible - n) / this.validSlots >= 0.5) {
      const drawn = new Set<number>();
      let filled = 0;
      while (filled < n) {
        const slot = this.firstValidSlot + this.rng.int(this.validSlots);
        if (exclude.has(slot) || drawn.has(slot)) continue;
        drawn.add(slot);
        out[filled++] = slot;
      }
      return out;
    }
    const pool = new Int32Array(eligible);
    let size = 0;
    for (let slot = this.firstValidSlot; slot < this.slots; slot++) if (!exclude.has(slot)) pool[size++] = slot;
    // Partial Fisher-Yates: the first n positions become a uniform sample without replacement.
    for (let i = 0; i < n; i++) {
      const j = i + this.rng.int(size - i);
      const picked = pool[j] ?? 0;
      pool[j] = pool[i] ?? 0;
      pool[i] = picked;
      out[i] = picked;
    }
    return out;
  }
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sample size must be a non-negative integer, got ${n}`);
}
