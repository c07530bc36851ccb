import { describe, expect, it } from 'vitest';
import type { Interaction } from './interaction.js';
import { createSyntheticWorld, DEFAULT_WORLD_OPTIONS, smallWorldOptions, WORLD_EPOCH_MS } from './synthetic-world.js';

const small = createSyntheticWorld(smallWorldOptions());
const isSorted = (events: readonly Interaction[]): boolean => events.every((e, i) => i === 0 || (events[i - 1] as Interaction).ts <= e.ts);

describe('createSyntheticWorld', () => {
  it('builds the default world quickly, at the documented sizes', () => {
    const started = performance.now();
    const world = createSyntheticWorld();
    const elapsedMs = performance.now() - started;
    expect(elapsedMs).toBeLessThan(1000);
    expect(world.options).toEqual(DEFAULT_WORLD_OPTIONS);
    expect(world.itemIds).toHaveLength(1020);
    expect(new Set(world.pretrainLog.map((e) => e.userId)).size).toBe(600);
    // Per-user counts vary by +-25% around the mean, so the totals sit near users x mean.
    expect(world.pretrainLog.length / 600).toBeGreaterThan(35);
    expect(world.pretrainLog.length / 600).toBeLessThan(45);
    expect(world.stream.length / 600).toBeGreaterThan(25);
    expect(world.stream.length / 600).toBeLessThan(35);
  });

  it('is a pure function of its options', () => {
    const again = createSyntheticWorld(smallWorldOptions());
    expect(again.pretrainLog).toEqual(small.pretrainLog);
    expect(again.stream).toEqual(small.stream);
    expect(again.drifts).toEqual(small.drifts);
    expect(again.itemIds.map((id) => again.topicOfItem(id))).toEqual(small.itemIds.map((id) => small.topicOfItem(id)));
    const other = createSyntheticWorld(smallWorldOptions(8));
    expect(other.pretrainLog).not.toEqual(small.pretrainLog);
  });

  it('orders both logs by time, with the whole stream after pretraining', () => {
    expect(isSorted(small.pretrainLog)).toBe(true);
    expect(isSorted(small.stream)).toBe(true);
    const lastPretrain = small.pretrainLog.at(-1)?.ts ?? Number.NaN;
    expect(small.pretrainLog[0]?.ts).toBeGreaterThanOrEqual(WORLD_EPOCH_MS);
    expect(small.stream[0]?.ts).toBeGreaterThan(lastPretrain);
  });

  it('schedules every drift, in order, inside the stream', () => {
    expect(small.drifts.map((d) => d.kind)).toEqual(['taste-shift', 'new-items', 'popularity']);
    const first = small.stream[0]?.ts ?? Number.NaN;
    const last = small.stream.at(-1)?.ts ?? Number.NaN;
    small.drifts.forEach((drift, i) => {
      expect(drift.ts).toBeGreaterThan(first);
      expect(drift.ts).toBeLessThan(last);
      if (i > 0) expect(drift.ts).toBeGreaterThan((small.drifts[i - 1] as { ts: number }).ts);
      expect(drift.description.length).toBeGreaterThan(10);
    });
  });

  it('keeps new items out of pretraining and launches them in the stream, adopted by their group', () => {
    const pretrainItems = new Set(small.pretrainLog.map((e) => e.itemId));
    const launch = small.drifts.find((d) => d.kind === 'new-items')?.ts ?? Number.NaN;
    expect(small.newItemIds.length).toBe(8);
    for (const itemId of small.newItemIds) {
      expect(pretrainItems.has(itemId)).toBe(false);
      const clicks = small.stream.filter((e) => e.itemId === itemId);
      expect(clicks.length).toBeGreaterThan(10);
      expect(clicks.every((e) => e.ts >= launch)).toBe(true);
      const group = small.groupOfNewItem(itemId);
      const fromGroup = clicks.filter((e) => small.groupOfUser(e.userId) === group).length;
      // Over 40 seeds the lowest share seen was 0.8; other groups only spill over now and then.
      expect(fromGroup / clicks.length).toBeGreaterThan(0.7);
    }
  });

  it('makes the trending items popular only after the popularity drift', () => {
    const at = small.drifts.find((d) => d.kind === 'popularity')?.ts ?? Number.NaN;
    const trending = new Set(small.trendingItemIds);
    const share = (events: readonly Interaction[]): number => events.filter((e) => trending.has(e.itemId)).length / events.length;
    const before = share([...small.pretrainLog, ...small.stream.filter((e) => e.ts < at)]);
    const after = share(small.stream.filter((e) => e.ts >= at));
    expect(after).toBeGreaterThan(0.08);
    expect(after).toBeGreaterThan(5 * before);
  });

  it("moves the shifted groups' clicks to other topics and leaves the rest alone", () => {
    const at = small.drifts.find((d) => d.kind === 'taste-shift')?.ts ?? Number.NaN;
    const launch = small.drifts.find((d) => d.kind === 'new-items')?.ts ?? Number.NaN;
    const topicMix = (group: number, events: readonly Interaction[]): number[] => {
      const counts = new Array<number>(small.options.numTopics).fill(0);
      const mine = events.filter((e) => small.groupOfUser(e.userId) === group);
      for (const e of mine) counts[small.topicOfItem(e.itemId)] = (counts[small.topicOfItem(e.itemId)] ?? 0) + 1;
      return counts.map((c) => c / mine.length);
    };
    // Between the shift and the launch, so new items and trends do not blur the comparison.
    const window = small.stream.filter((e) => e.ts >= at && e.ts < launch);
    for (let group = 0; group < small.options.numGroups; group++) {
      const before = topicMix(group, small.pretrainLog);
      const after = topicMix(group, window);
      const distance = before.reduce((sum, p, t) => sum + Math.abs(p - (after[t] ?? 0)), 0) / 2;
      // Over 40 seeds: shifted groups moved at least 0.75 (total variation), the others at most 0.33 (noise).
      if (small.shiftedGroups.includes(group)) expect(distance).toBeGreaterThan(0.5);
      else expect(distance).toBeLessThan(0.4);
    }
  });

  it('never repeats an item for a user and mixes in views and purchases', () => {
    const seen = new Set<string>();
    for (const e of [...small.pretrainLog, ...small.stream]) {
      const key = `${e.userId}/${e.itemId}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
    }
    const types = new Map<string, number>();
    for (const e of small.stream) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    expect(types.get('click') ?? 0).toBeGreaterThan(small.stream.length * 0.7);
    expect(types.get('view') ?? 0).toBeGreaterThan(0);
    expect(types.get('purchase') ?? 0).toBeGreaterThan(0);
  });

  it('answers group and topic questions consistently and refuses unknown ids', () => {
    const users = new Set([...small.pretrainLog, ...small.stream].map((e) => e.userId));
    let members = 0;
    for (let group = 0; group < small.options.numGroups; group++) {
      const list = small.usersInGroup(group);
      expect(list.length).toBeGreaterThan(0);
      for (const userId of list) expect(small.groupOfUser(userId)).toBe(group);
      members += list.length;
    }
    expect(members).toBe(users.size);
    expect(small.itemIds.every((id) => /^[in]\d+$/.test(id))).toBe(true);
    expect(() => small.groupOfUser('nobody')).toThrow(RangeError);
    expect(() => small.topicOfItem('i99999')).toThrow(RangeError);
    expect(() => small.groupOfNewItem('i0')).toThrow(RangeError);
    expect(() => small.usersInGroup(99)).toThrow(RangeError);
  });

  it('rejects impossible options', () => {
    expect(() => createSyntheticWorld({ numItems: 10, numTopics: 12 })).toThrow(RangeError);
    expect(() => createSyntheticWorld({ numUsers: 0 })).toThrow(/numUsers/);
    expect(() => createSyntheticWorld({ seed: 1.5 })).toThrow(/seed/);
  });
});
