import { FIRST_ITEM_ID, UNK_ID } from './backbone-config.js';

/**
 * Item ids <-> score slots. Slots [0, vocabSize) are the backbone's vocabulary (0 = PAD,
 * 1 = UNK, then the items it was pretrained on); slots [vocabSize, vocabSize + sideCapacity)
 * are the bounded side table for items the backbone has never seen, handed out in first-seen
 * order so two replicas replaying the same events assign the same slots.
 *
 * When the side table is full a new item is refused (`ensureSlot` returns undefined) rather
 * than evicting an old one: eviction would silently re-purpose a slot whose trained embedding
 * and bias still describe another item, in every method and every published snapshot at once.
 * The refusal is counted (`refusedCount`) so an operator can size the table; a refused item
 * cannot be recommended until the backbone is retrained with it in its vocabulary.
 */
export class ItemCatalogue {
  readonly vocabSize: number;
  readonly sideCapacity: number;
  private readonly slotById = new Map<string, number>();
  private readonly idBySlot: (string | undefined)[];
  private readonly sideIds: string[] = [];
  private refused = 0;
  private readonly refusedIds = new Set<string>();

  constructor(backboneItemIds: readonly string[], sideCapacity: number) {
    if (!Number.isInteger(sideCapacity) || sideCapacity < 0) throw new RangeError(`sideCapacity must be a non-negative integer, got ${sideCapacity}`);
    this.vocabSize = backboneItemIds.length + FIRST_ITEM_ID;
    this.sideCapacity = sideCapacity;
    this.idBySlot = [undefined, undefined];
    backboneItemIds.forEach((id, i) => {
      if (this.slotById.has(id)) throw new Error(`backbone vocabulary lists item ${id} twice`);
      this.slotById.set(id, i + FIRST_ITEM_ID);
      this.idBySlot.push(id);
    });
  }

  /** Rebuilds a catalogue whose side table holds `sideItemIds` in that slot order (from a snapshot). */
  static restore(backboneItemIds: readonly string[], sideCapacity: number, sideItemIds: readonly string[]): ItemCatalogue {
    const catalogue = new ItemCatalogue(backboneItemIds, sideCapacity);
    for (const id of sideItemIds) {
      if (catalogue.slotById.has(id)) throw new Error(`side item ${id} is already in the catalogue`);
      if (catalogue.ensureSlot(id) === undefined) throw new Error(`${sideItemIds.length} side items do not fit a side table of ${sideCapacity}`);
    }
    return catalogue;
  }

  /** Backbone items plus side items handed out so far (excluding PAD and UNK). */
  get itemCount(): number {
    return this.slotById.size;
  }

  /** Score slots in use: the vocabulary plus the side slots handed out so far. */
  get numSlots(): number {
    return this.vocabSize + this.sideIds.length;
  }

  /** Score slots when the side table is full: the fixed size of side tensors. */
  get maxSlots(): number {
    return this.vocabSize + this.sideCapacity;
  }

  get sideCount(): number {
    return this.sideIds.length;
  }

  get refusedCount(): number {
    return this.refused;
  }

  /** Side items in slot order (what a snapshot stores to reproduce the assignment). */
  sideItemIds(): string[] {
    return [...this.sideIds];
  }

  slotOf(itemId: string): number | undefined {
    return this.slotById.get(itemId);
  }

  /** The item's slot, giving an unknown item the next side slot; undefined when the table is full. */
  ensureSlot(itemId: string): number | undefined {
    const known = this.slotById.get(itemId);
    if (known !== undefined) return known;
    if (this.sideIds.length >= this.sideCapacity) {
      this.refused++;
      this.refusedIds.add(itemId);
      return undefined;
    }
    const slot = this.vocabSize + this.sideIds.length;
    this.sideIds.push(itemId);
    this.slotById.set(itemId, slot);
    this.idBySlot[slot] = itemId;
    return slot;
  }

  itemIdOf(slot: number): string | undefined {
    return this.idBySlot[slot];
  }

  isSideSlot(slot: number): boolean {
    return slot >= this.vocabSize && slot < this.numSlots;
  }

  /** What the backbone reads for this slot: itself if in its vocabulary, else UNK. */
  inputId(slot: number): number {
    return slot < this.vocabSize ? slot : UNK_ID;
  }
}
