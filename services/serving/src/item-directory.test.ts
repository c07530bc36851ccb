import { describe, expect, it } from 'vitest';
import { ItemDirectory } from './item-directory.js';
import { decodeItemMessage, encodeItemRecord, MAX_CATEGORIES } from './item-records.js';

const metadata = new Map([
  ['a', { title: 'Alpha (1999)', categories: ['Comedy', 'Drama'] }],
  ['b', { title: 'Beta (2001)', categories: ['Drama'] }],
]);

describe('item directory', () => {
  it('starts from the vocabulary and the checkpoint metadata: everything available, in vocabulary order', () => {
    const d = new ItemDirectory({ itemIds: ['a', 'b', 'c'], metadata });
    expect(d.get('a')).toEqual({ itemId: 'a', title: 'Alpha (1999)', categories: ['Comedy', 'Drama'], available: true, updatedAt: null });
    expect(d.get('c')).toEqual({ itemId: 'c', title: null, categories: [], available: true, updatedAt: null });
    expect([...d.candidates()]).toEqual(['a', 'b', 'c']);
    expect([...d.candidates('drama')]).toEqual(['a', 'b']);
    expect(d).toMatchObject({ size: 3, titled: 2, unavailable: 0 });
    expect(d.isAvailable('never-heard-of')).toBe(true);
  });

  it('a write merges into what is known; later offsets win, earlier ones are ignored, places in the order are kept', () => {
    const d = new ItemDirectory({ itemIds: ['a', 'b', 'c'], metadata });
    const hidden = d.merged('a', { available: false }, 10);
    expect(hidden).toEqual({ itemId: 'a', title: 'Alpha (1999)', categories: ['Comedy', 'Drama'], available: false, updatedAt: 10 });
    expect(d.apply(hidden, 5n)).toBe(true);
    expect(d.apply(d.merged('a', { title: 'Older write' }, 9), 4n)).toBe(false);
    expect(d.get('a')?.title).toBe('Alpha (1999)');
    expect(d.unavailable).toBe(1);
    expect(d.accepts({ exclude: new Set() })('a')).toBe(false);
    // Re-categorised: leaves Comedy, stays first in Drama, joins Horror.
    expect(d.apply(d.merged('a', { categories: ['Drama', 'Horror'], available: true }, 11), 6n)).toBe(true);
    expect([...d.candidates('comedy')]).toEqual([]);
    expect([...d.candidates('Drama')]).toEqual(['a', 'b']);
    expect([...d.candidates('HORROR')]).toEqual(['a']);
    expect([...d.candidates()]).toEqual(['a', 'b', 'c']);
    // A new item goes after the vocabulary.
    d.apply(d.merged('new', { title: 'Fresh' }, 12), 7n);
    expect([...d.candidates()]).toEqual(['a', 'b', 'c', 'new']);
    expect(d.get('new')).toMatchObject({ title: 'Fresh', categories: [], available: true });
    expect(d.merged('b', { title: null }, 13).title).toBeNull();
  });

  it('a tombstone returns a vocabulary item to the checkpoint and forgets a written one', () => {
    const d = new ItemDirectory({ itemIds: ['a'], metadata });
    d.apply(d.merged('a', { title: 'Renamed', available: false }, 1), 0n);
    d.apply(d.merged('x', { categories: ['Toys'] }, 1), 1n);
    expect(d.forget('a', 2n)).toBe(true);
    expect(d.get('a')).toMatchObject({ title: 'Alpha (1999)', available: true, updatedAt: null });
    expect(d.forget('x', 3n)).toBe(true);
    expect(d.get('x')).toBeUndefined();
    expect([...d.candidates('toys')]).toEqual([]);
    expect(d).toMatchObject({ size: 1, unavailable: 0, titled: 1 });
  });

  it('filters: exclude, category (any case), availability', () => {
    const d = new ItemDirectory({ itemIds: ['a', 'b', 'c'], metadata });
    d.apply(d.merged('b', { available: false }, 1), 0n);
    const accepts = d.accepts({ exclude: new Set(['c']), category: 'DRAMA' });
    expect(['a', 'b', 'c', 'zzz'].filter(accepts)).toEqual(['a']);
    expect(['a', 'b', 'c', 'zzz'].filter(d.accepts({ exclude: new Set() }))).toEqual(['a', 'c', 'zzz']);
    expect(['a', 'zzz'].filter(d.accepts({ exclude: new Set(), category: 'Western' }))).toEqual([]);
  });
});

describe('item records on reco.items', () => {
  const record = { itemId: 'i-1', title: 'One', categories: ['Comedy'], available: false, updatedAt: 5 };

  it('round-trips a record and reads a null value as a tombstone', () => {
    expect(decodeItemMessage(Buffer.from('i-1'), encodeItemRecord(record))).toEqual({ ok: true, itemId: 'i-1', record });
    expect(decodeItemMessage(Buffer.from('i-1'), null)).toEqual({ ok: true, itemId: 'i-1', record: null });
  });

  it('refuses a record that does not hold together, with a reason', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value));
    const cases: [Buffer | null, Buffer | null, RegExp][] = [
      [null, encodeItemRecord(record), /key/],
      [Buffer.from('other'), encodeItemRecord(record), /another item/],
      [Buffer.from('i-1'), Buffer.from('{nope'), /not JSON/],
      [Buffer.from('i-1'), encode([1]), /not a JSON object/],
      [Buffer.from('i-1'), encode({ ...record, v: 2 }), /version 2/],
      [Buffer.from('i-1'), encode({ v: 1, ...record, title: 7 }), /title/],
      [Buffer.from('i-1'), encode({ v: 1, ...record, categories: ['ok', 'bad\u0000'] }), /categories/],
      [Buffer.from('i-1'), encode({ v: 1, ...record, categories: Array.from({ length: MAX_CATEGORIES + 1 }, (_, i) => `c${i}`) }), /categories/],
      [Buffer.from('i-1'), encode({ v: 1, ...record, available: 'yes' }), /available/],
      [Buffer.from('i-1'), encode({ v: 1, ...record, updatedAt: '5' }), /updatedAt/],
    ];
    for (const [key, value, reason] of cases) {
      const decoded = decodeItemMessage(key, value);
      expect(decoded.ok, String(reason)).toBe(false);
      if (!decoded.ok) expect(decoded.reason).toMatch(reason);
    }
  });
});
