import { describe, expect, it } from 'vitest';
import { HistoryStore } from './history-store.js';

describe('history store', () => {
  it('keeps the newest items per user and evicts the least recently active user', () => {
    const store = new HistoryStore({ maxLength: 3, maxUsers: 2 });
    for (const item of ['a', 'b', 'c', 'd']) store.append('u1', item);
    expect(store.get('u1')).toEqual(['b', 'c', 'd']);
    store.append('u2', 'x');
    store.append('u1', 'e'); // u1 is now the most recent
    store.append('u3', 'y'); // evicts u2
    expect(store.get('u2')).toEqual([]);
    expect(store.get('u1')).toEqual(['c', 'd', 'e']);
    expect(store.users).toBe(2);
    expect(store.events).toBe(4);
  });
});
