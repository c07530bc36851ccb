import type { Interaction } from './interaction.js';
import { createRng, type Rng } from './rng.js';
import { nextItem, pickType, type Behaviour } from './user-behaviour.js';
import {
  buildCatalogue,
  createWeightedSampler,
  dealPrimaryTopics,
  launchItems,
  shiftedPrimaryTopics,
  shuffle,
  SUCCESSOR_WEIGHTS,
  tasteOver,
  unpopularHalf,
  type WeightedSampler,
} from './world-structure.js';

/**
 * A synthetic click log with learnable sequential habits and scheduled drifts, so that pretraining
 * a sequential model, and then adapting it online, both have something real to find.
 * The structure lives in world-structure.ts and the choice of each next item in user-behaviour.ts;
 * this file schedules the drifts, plays every user through time and answers questions about it.
 */

export interface SyntheticWorldOptions {
  seed?: number;
  /** Catalogue size known before the drift. */
  numItems?: number;
  /** Brand-new items launched during the stream. */
  numNewItems?: number;
  numUsers?: number;
  /** Taste groups. */
  numGroups?: number;
  /** Latent item topics. */
  numTopics?: number;
  pretrainEventsPerUser?: number;
  streamEventsPerUser?: number;
}

export interface DriftEvent {
  ts: number;
  kind: 'taste-shift' | 'new-items' | 'popularity';
  description: string;
}

export interface SyntheticWorld {
  readonly options: Required<SyntheticWorldOptions>;
  /** Every item, new ones included (new ones last). */
  readonly itemIds: readonly string[];
  /** Never appear in pretrainLog. */
  readonly newItemIds: readonly string[];
  /** Before any drift, sorted by ts. */
  readonly pretrainLog: readonly Interaction[];
  /** After pretrainLog (all ts greater), across the drifts, sorted by ts. */
  readonly stream: readonly Interaction[];
  /** In time order. */
  readonly drifts: readonly DriftEvent[];
  /** Groups whose topic taste changes at the taste-shift drift. */
  readonly shiftedGroups: readonly number[];
  /** Previously unpopular items that every group starts clicking at the popularity drift. */
  readonly trendingItemIds: readonly string[];
  groupOfUser(userId: string): number;
  usersInGroup(group: number): readonly string[];
  topicOfItem(itemId: string): number;
  /** The taste group that adopts a brand-new item. */
  groupOfNewItem(itemId: string): number;
}

export const DEFAULT_WORLD_OPTIONS: Readonly<Required<SyntheticWorldOptions>> = Object.freeze({
  seed: 42,
  numItems: 1000,
  numNewItems: 20,
  numUsers: 600,
  numGroups: 6,
  numTopics: 12,
  pretrainEventsPerUser: 40,
  streamEventsPerUser: 30,
});

/** A tiny world for unit tests that still has every drift. */
export function smallWorldOptions(seed = 7): SyntheticWorldOptions {
  return {
    seed,
    numItems: 240,
    numNewItems: 8,
    numUsers: 120,
    numGroups: 4,
    numTopics: 10,
    pretrainEventsPerUser: 30,
    streamEventsPerUser: 30,
  };
}

const DAY_MS = 86_400_000;
/** A fixed epoch keeps worlds identical across machines and days. */
export const WORLD_EPOCH_MS = Date.UTC(2026, 0, 1);
const PRETRAIN_MS = 28 * DAY_MS;
/** The day between pretraining and the stream is what makes "all stream ts > pretrain ts" hold by construction. */
const STREAM_START_MS = WORLD_EPOCH_MS + PRETRAIN_MS + DAY_MS;
const STREAM_MS = 7 * DAY_MS;
/** Where in the stream each drift lands: spaced so each has time to hurt and to be learned. */
const DRIFT_AT = { 'taste-shift': 0.2, 'new-items': 0.4, popularity: 0.6 } as const;
/** Share of the catalogue that starts trending at the popularity drift: few enough to reach the top. */
const TRENDING_SHARE = 0.01;

function resolveOptions(options: SyntheticWorldOptions): Required<SyntheticWorldOptions> {
  const resolved = { ...DEFAULT_WORLD_OPTIONS };
  for (const [key, value] of Object.entries(options) as [keyof SyntheticWorldOptions, number | undefined][]) {
    if (value !== undefined) resolved[key] = value;
  }
  const check = (key: keyof SyntheticWorldOptions, min: number): void => {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`synthetic world: ${key} must be an integer >= ${min}, got ${value}`);
    }
  };
  check('seed', 0);
  check('numTopics', 2);
  check('numGroups', 1);
  check('numUsers', 1);
  check('numNewItems', 0);
  check('pretrainEventsPerUser', 0);
  check('streamEventsPerUser', 0);
  // Every topic needs enough items for its successors to be distinct.
  check('numItems', resolved.numTopics * (SUCCESSOR_WEIGHTS.length + 2));
  return resolved;
}

/** Event count around the mean (x0.75..1.25), so sequences differ in length as real ones do. */
function eventCount(mean: number, rng: Rng): number {
  return Math.round(mean * (0.75 + 0.5 * rng.next()));
}

function sortedTimes(count: number, start: number, span: number, rng: Rng): number[] {
  return Array.from({ length: count }, () => start + Math.floor(rng.next() * span)).sort((a, b) => a - b);
}

function lookup<K, V>(map: ReadonlyMap<K, V>, key: K, what: string): V {
  const value = map.get(key);
  if (value === undefined) throw new RangeError(`synthetic world: unknown ${what} '${String(key)}'`);
  return value;
}

interface Plan {
  behaviour: Behaviour;
  primariesBefore: readonly (readonly number[])[];
  primariesAfter: readonly (readonly number[])[];
  shiftedGroups: number[];
  newItemGroup: number[];
}

/** The hidden structure and the drifts, decided before any user acts. */
function plan(opts: Required<SyntheticWorldOptions>, structureRng: Rng, driftRng: Rng): Plan {
  const { numItems, numNewItems, numGroups, numTopics } = opts;
  const catalogue = buildCatalogue(numItems, numTopics, structureRng);
  const primariesBefore = dealPrimaryTopics(numGroups, numTopics, structureRng);
  const shiftedGroups = shuffle(
    Array.from({ length: numGroups }, (_, g) => g),
    driftRng,
  )
    .slice(0, Math.ceil(numGroups / 2))
    .sort((a, b) => a - b);
  const primariesAfter = primariesBefore.map((old, g) =>
    shiftedGroups.includes(g) ? shiftedPrimaryTopics(old, numTopics, driftRng) : old,
  );
  const topicIndices = Array.from({ length: numTopics }, (_, t) => t);
  const samplerOf = (topics: readonly number[]): WeightedSampler =>
    createWeightedSampler(topicIndices, Array.from(tasteOver(topics, numTopics)));

  // Each new item belongs to one group (round-robin, so every group adopts some) and sits in one
  // of that group's post-shift favourite topics, so its adopters would plausibly like it.
  const newItemGroup = Array.from({ length: numNewItems }, (_, k) => k % numGroups);
  launchItems(
    catalogue,
    newItemGroup.map((group) => {
      const favourites = primariesAfter[group] ?? [0];
      return favourites[driftRng.int(favourites.length)] as number;
    }),
    driftRng,
  );
  const newItemsOfGroup: number[][] = Array.from({ length: numGroups }, () => []);
  newItemGroup.forEach((group, k) => newItemsOfGroup[group]?.push(numItems + k));
  // Trending items come from the unpopular half of each topic, so the move is visible.
  const trending = shuffle(unpopularHalf(catalogue), driftRng)
    .slice(0, Math.max(3, Math.round(numItems * TRENDING_SHARE)))
    .sort((a, b) => a - b);

  const at = (kind: DriftEvent['kind']): number => STREAM_START_MS + Math.round(DRIFT_AT[kind] * STREAM_MS);
  const behaviour: Behaviour = {
    catalogue,
    numItems,
    tasteBefore: primariesBefore.map(samplerOf),
    tasteAfter: primariesAfter.map(samplerOf),
    favouritesBefore: primariesBefore.map((topics) => new Set(topics)),
    favouritesAfter: primariesAfter.map((topics) => new Set(topics)),
    shiftedGroups: new Set(shiftedGroups),
    newItemsOfGroup,
    allNewItems: newItemGroup.map((_, k) => numItems + k),
    trending,
    tasteShiftTs: at('taste-shift'),
    launchTs: at('new-items'),
    popularityTs: at('popularity'),
  };
  return { behaviour, primariesBefore, primariesAfter, shiftedGroups, newItemGroup };
}

function describeDrifts(p: Plan, itemIds: readonly string[]): DriftEvent[] {
  const b = p.behaviour;
  const topics = (lists: readonly (readonly number[])[]): string =>
    p.shiftedGroups.map((g) => `[${(lists[g] ?? []).join(',')}]`).join(' ');
  const newIds = b.allNewItems.map((item) => itemIds[item] as string);
  return [
    {
      ts: b.tasteShiftTs,
      kind: 'taste-shift',
      description: `taste groups ${p.shiftedGroups.join(', ')} move their favourite topics from ${topics(p.primariesBefore)} to ${topics(p.primariesAfter)}`,
    },
    {
      ts: b.launchTs,
      kind: 'new-items',
      description:
        newIds.length === 0
          ? 'no new items launch (numNewItems = 0)'
          : `${newIds.length} new items launch (${newIds.join(', ')}), each adopted in a burst by one taste group`,
    },
    {
      ts: b.popularityTs,
      kind: 'popularity',
      description: `${b.trending.length} previously unpopular items start trending in every group: ${b.trending.map((item) => itemIds[item]).join(', ')}`,
    },
  ];
}

export function createSyntheticWorld(options: SyntheticWorldOptions = {}): SyntheticWorld {
  const opts = resolveOptions(options);
  const { numItems, numNewItems, numUsers, numGroups } = opts;
  const root = createRng(opts.seed);
  // Separate streams per concern, so changing how users behave never reshuffles the catalogue.
  const structureRng = root.fork();
  const driftRng = root.fork();
  const userRng = root.fork();
  const p = plan(opts, structureRng, driftRng);

  const itemIds = [
    ...Array.from({ length: numItems }, (_, i) => `i${i}`),
    ...Array.from({ length: numNewItems }, (_, k) => `n${k}`),
  ];
  const userIds = Array.from({ length: numUsers }, (_, u) => `u${u}`);
  const userGroup = shuffle(
    userIds.map((_, u) => u % numGroups),
    structureRng,
  );

  const pretrainLog: Interaction[] = [];
  const stream: Interaction[] = [];
  const seen = new Uint8Array(itemIds.length);
  userIds.forEach((userId, u) => {
    // One generator per user: a user's history does not depend on how many draws others made.
    const rng = userRng.fork();
    const group = userGroup[u] as number;
    const times = [
      ...sortedTimes(eventCount(opts.pretrainEventsPerUser, rng), WORLD_EPOCH_MS, PRETRAIN_MS, rng),
      ...sortedTimes(eventCount(opts.streamEventsPerUser, rng), STREAM_START_MS, STREAM_MS, rng),
    ];
    seen.fill(0);
    let last = -1;
    for (const ts of times) {
      last = nextItem(p.behaviour, group, last, ts, seen, rng);
      seen[last] = 1;
      const event: Interaction = { userId, itemId: itemIds[last] as string, type: pickType(rng), ts };
      (ts < STREAM_START_MS ? pretrainLog : stream).push(event);
    }
  });
  // Stable sorts: equal timestamps keep user order, so the log is a pure function of the options.
  pretrainLog.sort((a, b) => a.ts - b.ts);
  stream.sort((a, b) => a.ts - b.ts);

  const newItemIds = itemIds.slice(numItems);
  const groupByUserId = new Map(userIds.map((id, u) => [id, userGroup[u] as number]));
  const members: string[][] = Array.from({ length: numGroups }, () => []);
  userIds.forEach((id, u) => members[userGroup[u] as number]?.push(id));
  const topicByItemId = new Map(itemIds.map((id, i) => [id, p.behaviour.catalogue.topicOf[i] as number]));
  const groupByNewItemId = new Map(newItemIds.map((id, k) => [id, p.newItemGroup[k] as number]));

  return {
    options: Object.freeze(opts),
    itemIds,
    newItemIds,
    pretrainLog,
    stream,
    drifts: describeDrifts(p, itemIds),
    shiftedGroups: p.shiftedGroups,
    trendingItemIds: p.behaviour.trending.map((item) => itemIds[item] as string),
    groupOfUser: (userId) => lookup(groupByUserId, userId, 'user'),
    usersInGroup: (group) => {
      const list = Number.isInteger(group) ? members[group] : undefined;
      if (list === undefined) throw new RangeError(`synthetic world: no taste group ${group} (there are ${numGroups})`);
      return list;
    },
    topicOfItem: (itemId) => lookup(topicByItemId, itemId, 'item'),
    groupOfNewItem: (itemId) => lookup(groupByNewItemId, itemId, 'new item'),
  };
}
