import { describe, expect, it } from 'vitest';
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
    expect(pop.top(5, new Set(['new'])).map((t) => t.itemId)).toEqual(['old']);
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
