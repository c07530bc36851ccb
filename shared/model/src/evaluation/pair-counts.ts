/**
 * Sparse counts of item pairs (a, b) with each item's neighbour list, on typed arrays.
 *
 * The co-occurrence baselines need two things: `add(a, b)` online after every click, and, to
 * score a user, "every b seen with a" for each of a few recent items. A JavaScript Map of Maps
 * holds the millions of pairs of a 100,000-event log at several times the memory and a fraction
 * of the speed, so this keeps one open-addressing index from the pair to an entry, and entries
 * chained per first item (`next`) so a row is walked without touching the others.
 */
export class PairCounts {
  // The index: open addressing over (first, second) with linear probing; -1 in `keyA` is empty.
  private keyA: Int32Array;
  private keyB: Int32Array;
  private slots: Int32Array;
  /** 32 - log2(index size): the hash's top bits pick the index slot (Fibonacci hashing). */
  private shift: number;
  private entryItem: Int32Array;
  private entryCount: Float32Array;
  private entryNext: Int32Array;
  private heads = new Int32Array(1 << 10).fill(-1);
  private entries = 0;
  /** Entries at the last `compact`: the ones below it lie in rows, one item's after another. */
  private compacted = 0;

  /** `expected`: pairs to make room for at once (a copy being rebuilt knows its size). */
  constructor(expected = 0) {
    let bits = 12;
    while (1 << bits < expected * 2) bits++;
    this.keyA = new Int32Array(1 << bits).fill(-1);
    this.keyB = new Int32Array(1 << bits);
    this.slots = new Int32Array(1 << bits);
    this.shift = 32 - bits;
    const entries = Math.max(1 << 10, expected);
    this.entryItem = new Int32Array(entries);
    this.entryCount = new Float32Array(entries);
    this.entryNext = new Int32Array(entries);
  }

  /** Distinct pairs held. */
  get size(): number {
    return this.entries;
  }

  add(a: number, b: number, amount = 1): void {
    checkPair(a, b);
    let h = this.find(a, b);
    if (this.keyA[h] !== a) {
      if ((this.entries + 1) * 2 > this.keyA.length) {
        this.growIndex();
        h = this.find(a, b);
      }
      if (this.entries >= COMPACT_FROM && this.entries >= 2 * this.compacted) this.compact();
      this.keyA[h] = a;
      this.keyB[h] = b;
      this.slots[h] = this.newEntry(a, b);
    }
    const e = this.slots[h] as number;
    this.entryCount[e] = (this.entryCount[e] as number) + amount;
  }

  get(a: number, b: number): number {
    checkPair(a, b);
    const h = this.find(a, b);
    return this.keyA[h] === a ? (this.entryCount[this.slots[h] as number] as number) : 0;
  }

  /** Calls `visit(b, count)` for every pair (a, b) held. */
  forEachOf(a: number, visit: (b: number, count: number) => void): void {
    if (a < 0 || a >= this.heads.length) return;
    for (let e = this.heads[a] as number; e >= 0; e = this.entryNext[e] as number) visit(this.entryItem[e] as number, this.entryCount[e] as number);
  }

  /**
   * The cosine item-kNN vote of `a` (clicked `na` times; `counts` per item): out[b] +=
   * count(a, b) / sqrt(na · max(counts[b], 1)) for every pair (a, b) held, in one loop (scoring
   * walks thousands of pairs per call: no callback per pair). With `touched`, each b whose out[b]
   * was 0 before is pushed onto it.
   */
  addCosines(a: number, na: number, counts: Float32Array, out: Float32Array, touched?: number[]): void {
    if (a < 0 || a >= this.heads.length) return;
    const { entryItem, entryCount, entryNext } = this;
    for (let e = this.heads[a] as number; e >= 0; e = entryNext[e] as number) {
      const b = entryItem[e] as number;
      if (b >= out.length) continue;
      const before = out[b] as number;
      if (touched !== undefined && before === 0) touched.push(b);
      out[b] = before + (entryCount[e] as number) / Math.sqrt(na * Math.max(b < counts.length ? (counts[b] as number) : 0, 1));
    }
  }

  /** The index slot holding (a, b), or the empty slot where it would go. */
  private find(a: number, b: number): number {
    const mask = this.keyA.length - 1;
    // Both items mixed into 32 bits, then the product's top bits: the low bits of a
    // multiplicative hash depend only on the key's low bits, and item ids share those.
    let x = (Math.imul(a, 0x9e3779b1) + b) | 0;
    x = Math.imul(x ^ (x >>> 15), 0x85ebca6b);
    let h = Math.imul(x ^ (x >>> 13), 0x9e3779b1) >>> this.shift;
    for (;;) {
      const k = this.keyA[h] as number;
      if (k === -1 || (k === a && this.keyB[h] === b)) return h;
      h = (h + 1) & mask;
    }
  }

  private newEntry(a: number, b: number): number {
    const e = this.entries++;
    if (e >= this.entryItem.length) {
      this.entryItem = grown(this.entryItem, this.entryItem.length * 2);
      this.entryCount = grown(this.entryCount, this.entryCount.length * 2);
      this.entryNext = grown(this.entryNext, this.entryNext.length * 2);
    }
    if (a >= this.heads.length) {
      const heads = new Int32Array(Math.max(a + 1, this.heads.length * 2)).fill(-1);
      heads.set(this.heads);
      this.heads = heads;
    }
    this.entryItem[e] = b;
    this.entryCount[e] = 0;
    this.entryNext[e] = this.heads[a] as number;
    this.heads[a] = e;
    return e;
  }

  /**
   * Lays the entries out row by row (each item's pairs contiguous, in chain order), so walking a
   * row reads memory in sequence: entries are made in click order, so a popular item's pairs lie
   * scattered over the whole array, and scoring a history walks thousands of them.
   * Run when the entries have doubled since the last time: linear work, amortised O(1) per pair.
   * Counts, rows and their order are unchanged; only where entries live moves.
   */
  private compact(): void {
    const n = this.entries;
    const moved = new Int32Array(n);
    const item = new Int32Array(this.entryItem.length);
    const count = new Float32Array(this.entryCount.length);
    const next = new Int32Array(this.entryNext.length);
    let at = 0;
    for (let a = 0; a < this.heads.length; a++) {
      let e = this.heads[a] as number;
      if (e < 0) continue;
      this.heads[a] = at;
      for (; e >= 0; e = this.entryNext[e] as number) {
        moved[e] = at;
        item[at] = this.entryItem[e] as number;
        count[at] = this.entryCount[e] as number;
        const following = this.entryNext[e] as number;
        next[at] = following < 0 ? -1 : at + 1;
        at++;
      }
    }
    this.entryItem = item;
    this.entryCount = count;
    this.entryNext = next;
    for (let h = 0; h < this.keyA.length; h++) if (this.keyA[h] !== -1) this.slots[h] = moved[this.slots[h] as number] as number;
    this.compacted = n;
  }

  private growIndex(): void {
    const [oldA, oldB, oldSlots] = [this.keyA, this.keyB, this.slots];
    this.keyA = new Int32Array(oldA.length * 2).fill(-1);
    this.keyB = new Int32Array(oldA.length * 2);
    this.slots = new Int32Array(oldA.length * 2);
    this.shift--;
    for (let i = 0; i < oldA.length; i++) {
      const a = oldA[i] as number;
      if (a === -1) continue;
      const b = oldB[i] as number;
      const h = this.find(a, b);
      this.keyA[h] = a;
      this.keyB[h] = b;
      this.slots[h] = oldSlots[i] as number;
    }
  }
}

/** Below this many pairs a row's entries fit in cache wherever they are: no compaction. */
const COMPACT_FROM = 1 << 14;

/** Items are vocabulary slots, far below 2^26: anything else is a caller's bug. */
function checkPair(a: number, b: number): void {
  if (!(a >= 0 && b >= 0 && a < 2 ** 26 && b < 2 ** 26)) throw new RangeError(`pair (${a}, ${b}) is outside [0, 2^26)`);
}

function grown<T extends Int32Array | Float32Array>(array: T, size: number): T {
  const out = new (array.constructor as new (n: number) => T)(size);
  out.set(array);
  return out;
}
