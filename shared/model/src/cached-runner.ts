import type { BackboneRunOutput, BackboneRunner } from './backbone-runner.js';
import type { SequenceBatch } from './sequence-batch.js';

export interface CachedRunnerOptions {
  /** Sequences kept, least recently used evicted first. Each costs (blocks + 1) x d floats plus its key. */
  maxEntries: number;
  /** Called once per `run` with that call's hits and misses (e.g. to count them in metrics). */
  onLookup?: (hits: number, misses: number) => void;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
}

/**
 * The frozen backbone's outputs, remembered per input sequence.
 *
 * The backbone never changes in a process, so its outputs for a given id sequence never change
 * either: whatever asks again for a sequence already run (a user requesting recommendations again
 * before their next click, a second ladder variant on the same click, a replayed example) gets
 * the stored rows, exactly, without the engine. Only the misses of a batch go to the engine, as
 * one smaller batch. Memory is bounded by `maxEntries` (LRU).
 *
 * What this cannot do is compute only the new position when a user clicks again: positions are
 * counted back from the newest item (left padding), so a click shifts every earlier item's
 * position embedding and every activation changes. See the README's performance section.
 */
export class CachedBackboneRunner implements BackboneRunner {
  readonly dim: number;
  readonly blocks: number;
  readonly maxLen: number;
  readonly #inner: BackboneRunner;
  readonly #maxEntries: number;
  readonly #onLookup: ((hits: number, misses: number) => void) | undefined;
  /** Insertion order is recency order: a hit is deleted and set again. */
  readonly #entries = new Map<string, Float32Array>();
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(inner: BackboneRunner, options: CachedRunnerOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${options.maxEntries}`);
    this.#inner = inner;
    this.#maxEntries = options.maxEntries;
    this.#onLookup = options.onLookup;
    this.dim = inner.dim;
    this.blocks = inner.blocks;
    this.maxLen = inner.maxLen;
  }

  get stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, evictions: this.#evictions, entries: this.#entries.size };
  }

  async run(batch: SequenceBatch): Promise<BackboneRunOutput> {
    const { batchSize, maxLen } = batch;
    if (maxLen !== this.maxLen) throw new Error(`runner expects sequences of length ${this.maxLen}, got ${maxLen}`);
    const d = this.dim;
    const parts = this.blocks + 1;
    const rows: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(batchSize);
    const keys: string[] = new Array<string>(batchSize);
    // Misses, deduplicated: the first row with a key runs, later ones copy it.
    const missIndex = new Map<string, number>();
    const missRows: number[] = [];
    for (let r = 0; r < batchSize; r++) {
      const key = sequenceKey(batch.ids, r * maxLen, maxLen);
      keys[r] = key;
      const hit = this.#entries.get(key);
      if (hit !== undefined) {
        this.#entries.delete(key);
        this.#entries.set(key, hit);
        rows[r] = hit;
        this.#hits++;
      } else if (!missIndex.has(key)) {
        missIndex.set(key, missRows.length);
        missRows.push(r);
        this.#misses++;
      } else {
        this.#hits++;
      }
    }
    this.#onLookup?.(batchSize - missRows.length, missRows.length);
    if (missRows.length > 0) {
      const ids = new Int32Array(missRows.length * maxLen);
      missRows.forEach((r, i) => ids.set(batch.ids.subarray(r * maxLen, (r + 1) * maxLen), i * maxLen));
      const out = await this.#inner.run({ ids, batchSize: missRows.length, maxLen });
      const sources = [out.userState, ...out.blockOutputs];
      missRows.forEach((r, i) => {
        const entry = new Float32Array(parts * d);
        sources.forEach((source, p) => entry.set(source.subarray(i * d, (i + 1) * d), p * d));
        this.#remember(keys[r] as string, entry);
      });
      for (let r = 0; r < batchSize; r++) {
        if (rows[r] === undefined) rows[r] = this.#entries.get(keys[r] as string) ?? rowOf(sources, missIndex.get(keys[r] as string) ?? 0, d);
      }
    }
    const arrays = Array.from({ length: parts }, () => new Float32Array(batchSize * d));
    rows.forEach((entry, r) => {
      if (entry === undefined) throw new Error('cached runner: a row has no output');
      arrays.forEach((a, p) => a.set(entry.subarray(p * d, (p + 1) * d), r * d));
    });
    const [userState, ...blockOutputs] = arrays as [Float32Array, ...Float32Array[]];
    return { batchSize, dim: d, userState, blockOutputs };
  }

  #remember(key: string, entry: Float32Array): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
      this.#evictions++;
    }
  }

  /** Forgets the cache; the inner runner belongs to the caller. */
  dispose(): void {
    this.#entries.clear();
  }
}

/**
 * An `onLookup` that adds a call's hits and misses to a counter labelled by `result` (both
 * services export them as reco_backbone_cache_lookups_total; a prom-client Counter fits).
 */
export function countLookupsInto(counter: { inc(labels: { result: 'hit' | 'miss' }, value: number): void }): (hits: number, misses: number) => void {
  return (hits, misses) => {
    if (hits > 0) counter.inc({ result: 'hit' }, hits);
    if (misses > 0) counter.inc({ result: 'miss' }, misses);
  };
}

/** A compact exact key for one id row: its bytes read as UTF-16 code units (two per int32). */
function sequenceKey(ids: Int32Array, start: number, length: number): string {
  const units = new Uint16Array(ids.buffer, ids.byteOffset + start * 4, length * 2);
  return String.fromCharCode(...units);
}

/** One row of the engine's output laid out as a cache entry (when maxEntries evicted it already). */
function rowOf(sources: Float32Array[], row: number, d: number): Float32Array {
  const entry = new Float32Array(sources.length * d);
  sources.forEach((source, p) => entry.set(source.subarray(row * d, (row + 1) * d), p * d));
  return entry;
}
