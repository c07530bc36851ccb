import type { Rng } from '@reco/data';

export interface ReplayBufferOptions {
  /** Most examples kept; past it the oldest is evicted. */
  capacity: number;
  /** Draws the replayed part of each batch; fork one per buffer so runs replay identically. */
  rng: Rng;
}

/**
 * Bounded memory of recent training examples for online training.
 *
 * Training only on each step's fresh clicks overfits to the last few seconds of traffic and
 * forgets the rest; mixing in a uniform sample of recent examples keeps the gradient closer to
 * the current distribution as a whole while the fresh part still tracks drift. The window is a
 * ring of `capacity` examples, so "recent" means "the last `capacity` examples pushed".
 *
 * One step looks like: `const batch = buffer.drawBatch(batchSize, freshExamples)`. The trainer
 * decides the mix through how many fresh examples it hands in per step; the buffer fills the
 * rest of the batch from its memory and then remembers the fresh examples for later steps.
 */
export class ReplayBuffer<T> {
  readonly capacity: number;
  private readonly rng: Rng;
  private readonly items: T[] = [];
  /** Index in `items` of the oldest example once the ring is full. */
  private head = 0;

  constructor(opts: ReplayBufferOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${opts.capacity}`);
    }
    this.capacity = opts.capacity;
    this.rng = opts.rng;
  }

  get size(): number {
    return this.items.length;
  }

  /** Remember one example, evicting the oldest when full. */
  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
  }

  /**
   * One training batch: all of `fresh` first (this step's new examples, in order), then up to
   * `batchSize - fresh.length` distinct examples drawn uniformly from the buffer's memory.
   * The batch is shorter than `batchSize` only while the buffer holds too few examples.
   * Afterwards the fresh examples are pushed, so an example is trained on as fresh exactly once
   * and can come back only as a replayed one, in a later step.
   *
   * Throws when `fresh` alone exceeds `batchSize`: silently dropping clicks or growing the batch
   * would both hide a trainer that has fallen behind; the trainer should split them into steps.
   */
  drawBatch(batchSize: number, fresh: readonly T[]): T[] {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    if (fresh.length > batchSize) {
      throw new RangeError(`${fresh.length} fresh examples do not fit a batch of ${batchSize}; split them into steps`);
    }
    const batch = [...fresh, ...this.sample(batchSize - fresh.length)];
    for (const item of fresh) this.push(item);
    return batch;
  }

  /** Up to `n` distinct remembered examples, uniformly at random, in random order. */
  sample(n: number): T[] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`sample size must be a non-negative integer, got ${n}`);
    const size = this.items.length;
    const take = Math.min(n, size);
    const out: T[] = [];
    if (take === 0) return out;
    if (take * 4 <= size) {
      // Few out of many: rejection on indices avoids touching the whole buffer.
      const drawn = new Set<number>();
      while (drawn.size < take) {
        const index = this.rng.int(size);
        if (drawn.has(index)) continue;
        drawn.add(index);
        out.push(this.items[index] as T);
      }
      return out;
    }
    // Partial Fisher-Yates over indices, so the stored order is left alone.
    const order = new Int32Array(size);
    for (let i = 0; i < size; i++) order[i] = i;
    for (let i = 0; i < take; i++) {
      const j = i + this.rng.int(size - i);
      const picked = order[j] ?? 0;
      order[j] = order[i] ?? 0;
      order[i] = picked;
      out.push(this.items[picked] as T);
    }
    return out;
  }

  /** Remembered examples from oldest to newest, for inspection. */
  toArray(): T[] {
    return [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }

  clear(): void {
    this.items.length = 0;
    this.head = 0;
  }
}
