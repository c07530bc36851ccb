import { describe, expect, it } from 'vitest';
import type { Interaction } from './interaction.js';
import { groupByUser, leaveOneOutSplit, timeSplit } from './splits.js';

const ev = (userId: string, itemId: string, ts: number): Interaction => ({ userId, itemId, type: 'click', ts });

// Deliberately out of time order, with ties, to check ordering is by ts and stable.
const log: Interaction[] = [
  ev('a', 'a3', 30),
  ev('b', 'b1', 10),
  ev('a', 'a1', 10),
  ev('a', 'a2', 20),
  ev('c', 'c1', 5),
  ev('a', 'a4', 40),
  ev('b', 'b2', 20),
  ev('b', 'b3', 20),
  ev('c', 'c2', 50),
];
const items = (events: readonly Interaction[]): string[] => events.map((e) => e.itemId);

describe('groupByUser', () => {
  it('orders each user by ts, keeping input order for ties', () => {
    const byUser = groupByUser(log);
    expect([...byUser.keys()]).toEqual(['c', 'b', 'a']);
    expect(items(byUser.get('a') ?? [])).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(items(byUser.get('b') ?? [])).toEqual(['b1', 'b2', 'b3']);
  });
});

describe('leaveOneOutSplit', () => {
  it('holds out each user last event for test and the one before for valid', () => {
    const { train, valid, test } = leaveOneOutSplit(log);
    expect(items(test)).toEqual(['b3', 'a4']);
    expect(items(valid)).toEqual(['b2', 'a3']);
    // c has only two events, too few to hold anything out.
    expect(items(train)).toEqual(['c1', 'b1', 'a1', 'a2', 'c2']);
    expect(train.length + valid.length + test.length).toBe(log.length);
  });
});

describe('timeSplit', () => {
  it('splits at a timestamp: before is strictly earlier', () => {
    const { before, after } = timeSplit(log, { ts: 20 });
    expect(items(before)).toEqual(['c1', 'b1', 'a1']);
    expect(items(after)).toEqual(['a2', 'b2', 'b3', 'a3', 'a4', 'c2']);
  });

  it('splits at a fraction without cutting through equal timestamps', () => {
    // 4 of 9 would cut between a2 and b2 (both ts 20): all ts-20 events go after instead.
    const { before, after } = timeSplit(log, { fraction: 4 / 9 });
    expect(items(before)).toEqual(['c1', 'b1', 'a1']);
    expect(after).toHaveLength(6);
    const { before: all } = timeSplit(log, { fraction: 1 });
    expect(all).toHaveLength(9);
    expect(timeSplit(log, { fraction: 0 }).before).toEqual([]);
  });

  it('rejects a fraction outside [0, 1]', () => {
    expect(() => timeSplit(log, { fraction: 1.5 })).toThrow(RangeError);
    expect(() => timeSplit(log, { fraction: Number.NaN })).toThrow(RangeError);
  });
});
