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
  private keys = new Float64Array(1 << 12).fill(-1);
  private slots = new Int32Array(1 << 12);
  private entryItem = new Int32Array(1 << 10);
  private entryCount = new Float32Array(1 << 10);
  private entryNext = new Int32Array(1 << 10);
  private heads = new Int32Array(1 << 10).fill(-1);
  private entries = 0;

  /** Distinct pairs held. */
  get size(): number {
    return this.entries;
  }

  add(a: number, b: number, amount = 1): void {
    const key = pairKey(a, b);
    let h = this.find(key);
    if (this.keys[h] !== key) {
      if ((this.entries + 1) * 2 > this.keys.length) {
        this.growIndex();
        h = this.find(key);
      }
      const e = this.newEntry(a, b);
      this.keys[h] = key;
      this.slots[h] = e;
    }
    const e = this.slots[h] as number;
    this.entryCount[e] = (this.entryCount[e] as number) + amount;
  }

  get(a: number, b: number): number {
    const key = pairKey(a, b);
    const h = this.find(key);
    return this.keys[h] === key ? (this.entryCount[this.slots[h] as number] as number) : 0;
  }

  /** Calls `visit(b, count)` for every pair (a, b) held. */
  forEachOf(a: number, visit: (b: number, count: number) => void): void {
    if (a < 0 || a >= this.heads.length) return;
    for (let e = this.heads[a] as number; e >= 0; e = this.entryNext[e] as number) visit(this.entryItem[e] as number, this.entryCount[e] as number);
  }

  private find(key: number): number {
    const mask = this.keys.length - 1;
    // Multiplicative hashing of the 53-bit key folded to 32 bits; linear probing.
    let h = Math.imul((key % 4294967296) ^ Math.floor(key / 4294967296), 0x9e3779b1) & mask;
    for (;;) {
      const k = this.keys[h] as number;
      if (k === key || k === -1) return h;
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

  private growIndex(): void {
    const oldKeys = this.keys;
    const oldSlots = this.slots;
    this.keys = new Float64Array(oldKeys.length * 2).fill(-1);
    this.slots = new Int32Array(oldKeys.length * 2);
    for (let i = 0; i < oldKeys.length; i++) {
      const key = oldKeys[i] as number;
      if (key === -1) continue;
      const h = this.find(key);
      this.keys[h] = key;
      this.slots[h] = oldSlots[i] as number;
    }
  }
}

/** Slots stay far below 2^26, so the pair fits a double's 53-bit integer range exactly. */
function pairKey(a: number, b: number): number {
  if (!(a >= 0 && b >= 0 && a < 2 ** 26 && b < 2 ** 26)) throw new RangeError(`pair (${a}, ${b}) is outside [0, 2^26)`);
  return a * 2 ** 26 + b;
}

function grown<T extends Int32Array | Float32Array>(array: T, size: number): T {
  const out = new (array.constructor as new (n: number) => T)(size);
  out.set(array);
  return out;
}
