import { describe, expect, it } from 'vitest';
import { popularItems } from './fallback.js';
import { ItemDirectory } from './item-directory.js';
import { PopularityCounter } from './popularity.js';

describe('popularity counter', () => {
  it('ranks by decayed counts: a burst now beats a bigger one a few half-lives ago', () => {
    let now = 0;
    const pop = new PopularityCounter({ halfLifeMs: 1000, now: () => now });
    for (let i = 0; i < 8; i++) pop.add('old');
    now = 4000; // 8 clicks -> 0.5 after four half-lives
    pop.add('new');
    pop.add('new');
    expect(pop.top(2).map((t) => t.itemId)).toEqual(['new', 'old']);
    expect(pop.top(2)[1]?.score).toBeCloseTo(0.5);
    expect(pop.top(5, (id) => id !== 'new').map((t) => t.itemId)).toEqual(['old']);
  });

  it('selects exactly what a full sort would', () => {
    const pop = new PopularityCounter({ halfLifeMs: 1000, now: () => 0 });
    for (let i = 0; i < 300; i++) pop.add(`item-${i}`, (i * 7919) % 37);
    const full = pop.top(1000);
    expect(full).toHaveLength(300);
    for (let i = 1; i < full.length; i++) expect(full[i - 1]!.score >= full[i]!.score).toBe(true);
    expect(pop.top(10)).toEqual(full.slice(0, 10));
    expect(pop.top(0)).toEqual([]);
  });

  it('stays bounded by evicting the weakest item', () => {
    const pop = new PopularityCounter({ halfLifeMs: 1000, maxItems: 2, now: () => 0 });
    pop.add('a', 5);
    pop.add('b', 1);
    pop.add('c', 3);
    expect(pop.size).toBe(2);
    expect(pop.top(3).map((t) => t.itemId)).toEqual(['a', 'c']);
  });
});

describe('popularity with the pretraining counts as a prior', () => {
  const prior = new Map([
    ['p-a', 50],
    ['p-b', 30],
    ['p-c', 20],
    ['p-zero', 0],
  ]);

  it('ranks by the pretraining counts before any click, worth priorClicks live clicks in all', () => {
    const pop = new PopularityCounter({ halfLifeMs: 1000, now: () => 0, prior, priorClicks: 10 });
    expect(pop.top(3)).toEqual([
      { itemId: 'p-a', score: 5 },
      { itemId: 'p-b', score: 3 },
      { itemId: 'p-c', score: 2 },
    ]);
    // An item nobody clicked in pretraining has no score: completing answers is the fallback's job.
    expect(pop.top(10).map((t) => t.itemId)).toEqual(['p-a', 'p-b', 'p-c']);
    expect(pop.priorSize).toBe(3);
    expect(pop.size).toBe(0);
  });

  it('blends live clicks on top of the prior: they add to an item with a count and rank a new one', () => {
    const pop = new PopularityCounter({ halfLifeMs: 1000, now: () => 0, prior, priorClicks: 10 });
    pop.add('p-c', 2);
    pop.add('fresh', 4);
    expect(pop.top(5)).toEqual([
      { itemId: 'p-a', score: 5 },
      { itemId: 'fresh', score: 4 },
      { itemId: 'p-c', score: 4 },
      { itemId: 'p-b', score: 3 },
    ]);
    expect(pop.top(2, (id) => id !== 'p-a').map((t) => t.itemId)).toEqual(['fresh', 'p-c']);
  });

  it('the early stop over the prior selects what a full sort of prior plus live would', () => {
    const big = new Map(Array.from({ length: 500 }, (_, i) => [`v-${i}`, (i * 7919) % 101] as [string, number]));
    const pop = new PopularityCounter({ halfLifeMs: 1000, now: () => 0, prior: big, priorClicks: 5000 });
    for (let i = 0; i < 40; i++) pop.add(`v-${(i * 37) % 500}`, i % 7);
    const accept = (id: string): boolean => !id.endsWith('3');
    const all = pop.top(10_000, accept);
    const sorted = [...all].sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
    expect(all).toEqual(sorted);
    for (const k of [1, 7, 50]) expect(pop.top(k, accept)).toEqual(all.slice(0, k));
  });
});

describe('the fallback answer', () => {
  const ids = Array.from({ length: 12 }, (_, i) => `item-${i}`);

  it('a checkpoint without counts: k items in catalogue order, live clicks first', () => {
    const directory = new ItemDirectory({ itemIds: ids });
    const pop = new PopularityCounter({ halfLifeMs: 1000, now: () => 0 });
    expect(popularItems(pop, directory, 10, { exclude: new Set() }).map((i) => i.itemId)).toEqual(ids.slice(0, 10));
    pop.add('item-7');
    const after = popularItems(pop, directory, 3, { exclude: new Set(['item-0']) });
    expect(after).toEqual([
      { itemId: 'item-7', score: 1 },
      { itemId: 'item-1', score: 0 },
      { itemId: 'item-2', score: 0 },
    ]);
    expect(popularItems(pop, directory, 100, { exclude: new Set() })).toHaveLength(12);
  });

  it('never returns an unavailable item, honours the category and what the answer already has', () => {
    const directory = new ItemDirectory({
      itemIds: ids,
      metadata: new Map([
        ['item-2', { title: 'Two', categories: ['Comedy'] }],
        ['item-5', { title: 'Five', categories: ['Drama', 'Comedy'] }],
        ['item-9', { title: 'Nine', categories: ['comedy'] }],
      ]),
    });
    const pop = new PopularityCounter({ halfLifeMs: 1000, now: () => 0, prior: new Map([['item-9', 5], ['item-4', 9]]) });
    directory.apply({ ...directory.merged('item-4', { available: false }, 1) }, 0n);
    const top = popularItems(pop, directory, 12, { exclude: new Set() });
    expect(top.map((i) => i.itemId)).not.toContain('item-4');
    expect(top[0]?.itemId).toBe('item-9');
    expect(top).toHaveLength(11);
    expect(popularItems(pop, directory, 10, { exclude: new Set(), category: 'COMEDY' }).map((i) => i.itemId)).toEqual(['item-9', 'item-2', 'item-5']);
    expect(popularItems(pop, directory, 10, { exclude: new Set(), category: 'Comedy' }, new Set(['item-9'])).map((i) => i.itemId)).toEqual(['item-2', 'item-5']);
    expect(popularItems(pop, directory, 10, { exclude: new Set(), category: 'Western' })).toEqual([]);
  });
});
