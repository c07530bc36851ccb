import type { ItemMetadata } from '@reco/data';

/** What serving knows about one item: what answers show and what decides whether it may be recommended. */
export interface ItemRecord {
  readonly itemId: string;
  readonly title: string | null;
  /** Free-form labels (genres, departments), in the order they were given. */
  readonly categories: readonly string[];
  /** An unavailable item is never recommended, by the model or by the fallback. */
  readonly available: boolean;
  /** Epoch ms of the API write that made this record; null for what the backbone's checkpoint said. */
  readonly updatedAt: number | null;
}

/** A write through the API: the fields it names replace the item's, the others stay. */
export interface ItemPatch {
  title?: string | null;
  categories?: readonly string[];
  available?: boolean;
}

/** What a request asks to leave out of its answer. */
export interface ItemFilter {
  /** Ids never to return (the request's `exclude`, plus the history when seen items are excluded). */
  readonly exclude: ReadonlySet<string>;
  /** Only items with this category (any case). */
  readonly category?: string | undefined;
}

const key = (category: string): string => category.toLowerCase();

/**
 * The item catalogue of one replica: every item of the backbone's vocabulary (with the titles and
 * categories its checkpoint carries), overlaid by the records written through the API, which reach
 * every replica through the compacted `reco.items` topic (see items-consumer.ts).
 *
 * Records are applied in topic order: each item remembers the offset of the record it holds, and an
 * older one (a replica's own write applied from the produce acknowledgement, then an earlier write of
 * another replica arriving from the topic) is ignored, so every replica converges on the topic's
 * last record per item. Iteration follows the vocabulary, then first writes: that is the order the
 * fallback completes an answer in when no counts rank the items.
 */
export class ItemDirectory {
  readonly #items = new Map<string, ItemRecord>();
  /** The checkpoint's view, which a tombstone on the topic returns an item to. */
  readonly #base = new Map<string, ItemRecord>();
  readonly #offsets = new Map<string, bigint>();
  /** Lower-cased category -> ids, so a category filter looks at its members only. */
  readonly #byCategory = new Map<string, Set<string>>();
  #unavailable = 0;
  #titled = 0;

  constructor(options: { itemIds?: readonly string[]; metadata?: ReadonlyMap<string, ItemMetadata> } = {}) {
    for (const itemId of options.itemIds ?? []) {
      const meta = options.metadata?.get(itemId);
      const record: ItemRecord = { itemId, title: meta?.title ?? null, categories: [...(meta?.categories ?? [])], available: true, updatedAt: null };
      this.#base.set(itemId, record);
      this.#set(record);
    }
  }

  /** Items known (vocabulary and written). */
  get size(): number {
    return this.#items.size;
  }

  /** Items marked unavailable. */
  get unavailable(): number {
    return this.#unavailable;
  }

  /** Items with a title. */
  get titled(): number {
    return this.#titled;
  }

  get(itemId: string): ItemRecord | undefined {
    return this.#items.get(itemId);
  }

  /** The record a write of `patch` makes from what this replica knows now. */
  merged(itemId: string, patch: ItemPatch, now: number): ItemRecord {
    const current = this.#items.get(itemId);
    return {
      itemId,
      title: patch.title !== undefined ? patch.title : (current?.title ?? null),
      categories: [...(patch.categories ?? current?.categories ?? [])],
      available: patch.available ?? current?.available ?? true,
      updatedAt: now,
    };
  }

  /** Applies a record read at `offset` of the items topic; false when a later one was applied already. */
  apply(record: ItemRecord, offset: bigint): boolean {
    if (!this.#advance(record.itemId, offset)) return false;
    this.#set({ ...record, categories: [...record.categories] });
    return true;
  }

  /** A tombstone at `offset`: the item goes back to what the checkpoint said, or is forgotten. */
  forget(itemId: string, offset: bigint): boolean {
    if (!this.#advance(itemId, offset)) return false;
    const base = this.#base.get(itemId);
    if (base !== undefined) this.#set(base);
    else this.#delete(itemId);
    return true;
  }

  /** Items nobody described are available: a click on a new product must be recommendable. */
  isAvailable(itemId: string): boolean {
    return this.#items.get(itemId)?.available ?? true;
  }

  /** Whether an answer to a request with this filter may contain the item. */
  accepts(filter: ItemFilter): (itemId: string) => boolean {
    const { exclude, category } = filter;
    const members = category === undefined ? undefined : (this.#byCategory.get(key(category)) ?? new Set<string>());
    return (itemId) => !exclude.has(itemId) && (members === undefined || members.has(itemId)) && this.isAvailable(itemId);
  }

  /** Every item a request with this category could get, in catalogue order (all items without one). */
  candidates(category?: string): Iterable<string> {
    return category === undefined ? this.#items.keys() : (this.#byCategory.get(key(category)) ?? []);
  }

  #advance(itemId: string, offset: bigint): boolean {
    const last = this.#offsets.get(itemId);
    if (last !== undefined && offset <= last) return false;
    this.#offsets.set(itemId, offset);
    return true;
  }

  #set(record: ItemRecord): void {
    const old = this.#items.get(record.itemId);
    if (old !== undefined) {
      this.#count(old, -1);
      // Only the categories it leaves: a set keeps an item's place in the ones it stays in.
      const kept = new Set(record.categories.map(key));
      for (const category of old.categories) if (!kept.has(key(category))) this.#unindex(record.itemId, category);
    }
    // Map.set on an existing key keeps its place: an update never moves an item in catalogue order.
    this.#items.set(record.itemId, record);
    this.#count(record, 1);
    for (const category of record.categories) {
      const members = this.#byCategory.get(key(category)) ?? new Set<string>();
      members.add(record.itemId);
      this.#byCategory.set(key(category), members);
    }
  }

  #delete(itemId: string): void {
    const old = this.#items.get(itemId);
    if (old === undefined) return;
    this.#count(old, -1);
    for (const category of old.categories) this.#unindex(itemId, category);
    this.#items.delete(itemId);
  }

  #count(record: ItemRecord, sign: 1 | -1): void {
    if (!record.available) this.#unavailable += sign;
    if (record.title !== null) this.#titled += sign;
  }

  #unindex(itemId: string, category: string): void {
    const members = this.#byCategory.get(key(category));
    members?.delete(itemId);
    if (members?.size === 0) this.#byCategory.delete(key(category));
  }
}
