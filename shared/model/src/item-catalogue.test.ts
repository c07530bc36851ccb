import { describe, expect, it } from 'vitest';
import { FIRST_ITEM_ID, UNK_ID } from './backbone-config.js';
import { ItemCatalogue } from './item-catalogue.js';
import { UserHistories } from './user-histories.js';

describe('ItemCatalogue', () => {
  it('maps backbone items after PAD and UNK and side items after the vocabulary, in first-seen order', () => {
    const c = new ItemCatalogue(['a', 'b', 'c'], 2);
    expect(c.vocabSize).toBe(3 + FIRST_ITEM_ID);
    expect(c.slotOf('a')).toBe(FIRST_ITEM_ID);
    expect(c.numSlots).toBe(5);
    expect(c.ensureSlot('new1')).toBe(5);
    expect(c.ensureSlot('new2')).toBe(6);
    expect(c.ensureSlot('new1')).toBe(5);
    expect(c.sideItemIds()).toEqual(['new1', 'new2']);
    expect(c.isSideSlot(6)).toBe(true);
    expect(c.isSideSlot(4)).toBe(false);
    expect(c.inputId(6)).toBe(UNK_ID);
    expect(c.inputId(3)).toBe(3);
    expect(c.itemIdOf(6)).toBe('new2');
    expect(c.maxSlots).toBe(7);
  });

  it('refuses new items when the side table is full, counting them, and never evicts', () => {
    const c = new ItemCatalogue(['a'], 1);
    expect(c.ensureSlot('x')).toBe(3);
    expect(c.ensureSlot('y')).toBeUndefined();
    expect(c.ensureSlot('y')).toBeUndefined();
    expect(c.refusedCount).toBe(2);
    expect(c.slotOf('x')).toBe(3);
  });

  it('restores the same slot assignment from a snapshot and rejects one that does not fit', () => {
    const c = new ItemCatalogue(['a', 'b'], 4);
    c.ensureSlot('n1');
    c.ensureSlot('n2');
    const r = ItemCatalogue.restore(['a', 'b'], 4, c.sideItemIds());
    expect(r.slotOf('n2')).toBe(c.slotOf('n2'));
    expect(() => ItemCatalogue.restore(['a', 'b'], 1, ['n1', 'n2'])).toThrow(/do not fit/);
    expect(() => ItemCatalogue.restore(['a', 'b'], 4, ['a'])).toThrow(/already/);
    expect(() => new ItemCatalogue(['a', 'a'], 1)).toThrow(/twice/);
  });
});

describe('UserHistories', () => {
  it('keeps the last maxLength items per user and forgets the least recently active user', () => {
    const h = new UserHistories(3, 2);
    for (const s of [1, 2, 3, 4]) h.append('u1', s);
    expect(h.get('u1')).toEqual([2, 3, 4]);
    h.append('u2', 9);
    h.append('u1', 5);
    h.append('u3', 7);
    expect(h.size).toBe(2);
    expect(h.get('u2')).toEqual([]);
    expect(h.get('u1')).toEqual([3, 4, 5]);
    const copy = h.get('u1');
    copy.push(99);
    expect(h.get('u1')).toEqual([3, 4, 5]);
  });
});
