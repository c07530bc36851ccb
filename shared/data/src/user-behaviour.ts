import type { InteractionType } from './interaction.js';
import type { Rng } from './rng.js';
import { createWeightedSampler, SUCCESSOR_WEIGHTS, type Catalogue, type WeightedSampler } from './world-structure.js';

/**
 * How a synthetic user picks their next item. In order of precedence: one of their group's
 * brand-new items (after the launch, in a burst), a trending item (after the popularity drift), a
 * successor of their last item (a habit), or a jump drawn from their group's topic taste with
 * in-topic popularity skew. Nobody clicks an item twice, so an evaluation that excludes seen
 * items loses no targets.
 */

/**
 * Chance to follow a habit (in a favoured topic) rather than jump. High enough that the last item
 * predicts the next far better than popularity does, which is what a sequential model must learn;
 * low enough that taste still decides a good share of the clicks, which the taste shift changes.
 */
const FOLLOW_CHANCE = 0.8;
/**
 * Habits in a topic the user does not favour are dropped more often. This is what makes a taste
 * shift bite: a shifted user abandons the old topics' habits and jumps to the new favourites,
 * which a frozen model, still reading the old taste from their history, does not rank.
 */
const UNLIKED_FOLLOW_FACTOR = 0.3;
/** Chance an adopting-group user clicks one of the group's new items, while any are unclicked by them. */
const BURST_CHANCE = 0.3;
/** Other groups notice new items only rarely, so each new item's clicks come mostly from one group. */
const SPILLOVER_CHANCE = 0.01;
/** Share of every user's clicks that go to trending items after the popularity drift: enough to top the charts. */
const TRENDING_CHANCE = 0.15;
const TYPE_WEIGHTS: readonly (readonly [InteractionType, number])[] = [
  ['click', 0.85],
  ['view', 0.1],
  ['purchase', 0.05],
];

export interface Behaviour {
  readonly catalogue: Catalogue;
  /** Pre-drift catalogue size; brand-new items are the indices from here on. */
  readonly numItems: number;
  readonly tasteBefore: readonly WeightedSampler[];
  readonly tasteAfter: readonly WeightedSampler[];
  /** Each group's favourite topics before and after the taste shift. */
  readonly favouritesBefore: readonly ReadonlySet<number>[];
  readonly favouritesAfter: readonly ReadonlySet<number>[];
  readonly shiftedGroups: ReadonlySet<number>;
  readonly newItemsOfGroup: readonly (readonly number[])[];
  readonly allNewItems: readonly number[];
  readonly trending: readonly number[];
  readonly tasteShiftTs: number;
  readonly launchTs: number;
  readonly popularityTs: number;
}

/** An unseen item among `candidates`, scanning from a random start; undefined if all are seen. */
function unseenOf(candidates: readonly number[], seen: Uint8Array, rng: Rng): number | undefined {
  if (candidates.length === 0) return undefined;
  const start = rng.int(candidates.length);
  for (let k = 0; k < candidates.length; k++) {
    const item = candidates[(start + k) % candidates.length] as number;
    if (seen[item] === 0) return item;
  }
  return undefined;
}

function followHabit(catalogue: Catalogue, last: number, seen: Uint8Array, rng: Rng): number | undefined {
  const successors = catalogue.successors[last] ?? [];
  const open: number[] = [];
  const weights: number[] = [];
  successors.forEach((item, k) => {
    if (seen[item] !== 0) return;
    open.push(item);
    weights.push(SUCCESSOR_WEIGHTS[k] ?? 0);
  });
  return open.length === 0 ? undefined : createWeightedSampler(open, weights).sample(rng);
}

function jump(b: Behaviour, group: number, shifted: boolean, seen: Uint8Array, rng: Rng): number {
  const topic = ((shifted ? b.tasteAfter : b.tasteBefore)[group] as WeightedSampler).sample(rng);
  const inTopic = b.catalogue.popularityInTopic[topic] as WeightedSampler;
  for (let tries = 0; tries < 20; tries++) {
    const item = inTopic.sample(rng);
    if (seen[item] === 0) return item;
  }
  // A long-lived user may have exhausted a topic's hits; any unseen pre-drift item beats a repeat.
  const start = rng.int(b.numItems);
  for (let k = 0; k < b.numItems; k++) {
    const item = (start + k) % b.numItems;
    if (seen[item] === 0) return item;
  }
  return inTopic.sample(rng);
}

/** The next item of a user of `group` whose last item was `last` (-1 for none) at time `ts`. */
export function nextItem(b: Behaviour, group: number, last: number, ts: number, seen: Uint8Array, rng: Rng): number {
  if (ts >= b.launchTs) {
    if (rng.next() < BURST_CHANCE) {
      const item = unseenOf(b.newItemsOfGroup[group] ?? [], seen, rng);
      if (item !== undefined) return item;
    }
    if (rng.next() < SPILLOVER_CHANCE) {
      const item = unseenOf(b.allNewItems, seen, rng);
      if (item !== undefined) return item;
    }
  }
  if (ts >= b.popularityTs && rng.next() < TRENDING_CHANCE) {
    const item = unseenOf(b.trending, seen, rng);
    if (item !== undefined) return item;
  }
  const shifted = ts >= b.tasteShiftTs && b.shiftedGroups.has(group);
  if (last >= 0) {
    const favourites = (shifted ? b.favouritesAfter : b.favouritesBefore)[group];
    const liked = favourites?.has(b.catalogue.topicOf[last] ?? -1) === true;
    if (rng.next() < (liked ? FOLLOW_CHANCE : FOLLOW_CHANCE * UNLIKED_FOLLOW_FACTOR)) {
      const item = followHabit(b.catalogue, last, seen, rng);
      if (item !== undefined) return item;
    }
  }
  return jump(b, group, shifted, seen, rng);
}

/**
 * Mostly clicks. The type never steers the item: every event continues the habit chain, so a
 * consumer that keeps only clicks sees about one link in seven broken.
 */
export function pickType(rng: Rng): InteractionType {
  let u = rng.next();
  for (const [type, weight] of TYPE_WEIGHTS) {
    if (u < weight) return type;
    u -= weight;
  }
  return 'click';
}
