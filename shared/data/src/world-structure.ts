import type { Rng } from './rng.js';

/**
 * The fixed, hidden structure of a synthetic world: item topics, in-topic popularity, the sparse
 * item -> successor habits, and the taste groups' topic preferences. Items are dense indices here;
 * synthetic-world.ts turns them into ids and plays users through this structure over time.
 */

/** How many successors each item has, and how often each is taken when a user follows a habit. */
export const SUCCESSOR_WEIGHTS = [0.55, 0.3, 0.15] as const;
/** Chance that the last successor lies in the next ("related") topic instead of the item's own. */
const RELATED_TOPIC_CHANCE = 0.5;
/** Zipf exponent of popularity inside a topic: a few hits, a long tail, as in real catalogues. */
const POPULARITY_EXPONENT = 0.9;
/** Weights of a group's favourite topics; whatever is left is spread over every topic. */
const PRIMARY_TOPIC_WEIGHTS = [0.6, 0.25, 0.1] as const;

/** Draws an index with probability proportional to its weight, by binary search on the running sum. */
export interface WeightedSampler {
  sample(rng: Rng): number;
}

export function createWeightedSampler(values: readonly number[], weights: readonly number[]): WeightedSampler {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((weight, i) => {
    total += weight;
    cumulative[i] = total;
  });
  if (!(total > 0)) throw new RangeError('a weighted sampler needs a positive total weight');
  return {
    sample(rng) {
      const target = rng.next() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] as number) > target) hi = mid;
        else lo = mid + 1;
      }
      return values[lo] as number;
    },
  };
}

export function shuffle<T>(values: T[], rng: Rng): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [values[i], values[j]] = [values[j] as T, values[i] as T];
  }
  return values;
}

export interface Catalogue {
  /** Topic per item index; indices >= the pre-drift catalogue size are brand-new items. */
  readonly topicOf: number[];
  /** Pre-drift item indices per topic, most popular first. */
  readonly itemsByTopic: readonly (readonly number[])[];
  readonly popularityInTopic: readonly WeightedSampler[];
  /** Successor item indices per item, in SUCCESSOR_WEIGHTS order. */
  readonly successors: (readonly number[])[];
}

function pickDistinct(sampler: WeightedSampler, count: number, exclude: number, rng: Rng, pool: readonly number[]): number[] {
  const picked: number[] = [];
  for (let tries = 0; picked.length < count && tries < 50 * count; tries++) {
    const candidate = sampler.sample(rng);
    if (candidate !== exclude && !picked.includes(candidate)) picked.push(candidate);
  }
  // Tiny topics can starve the rejection loop; fill deterministically instead.
  for (const candidate of pool) {
    if (picked.length >= count) break;
    if (candidate !== exclude && !picked.includes(candidate)) picked.push(candidate);
  }
  return picked;
}

/**
 * Successors are drawn popularity-weighted from the item's own topic (and sometimes the next
 * topic), so habits and popularity agree the way they do in real logs: hits are reached from many
 * places.
 */
function successorsOf(item: number, topic: number, catalogue: Omit<Catalogue, 'successors'>, rng: Rng): number[] {
  const numTopics = catalogue.itemsByTopic.length;
  const related = (topic + 1) % numTopics;
  const sameTopicCount = rng.next() < RELATED_TOPIC_CHANCE ? SUCCESSOR_WEIGHTS.length - 1 : SUCCESSOR_WEIGHTS.length;
  const own = pickDistinct(catalogue.popularityInTopic[topic] as WeightedSampler, sameTopicCount, item, rng, catalogue.itemsByTopic[topic] ?? []);
  const extra = pickDistinct(
    catalogue.popularityInTopic[related] as WeightedSampler,
    SUCCESSOR_WEIGHTS.length - own.length,
    item,
    rng,
    catalogue.itemsByTopic[related] ?? [],
  );
  return [...own, ...extra];
}

/** The pre-drift catalogue: balanced topics, Zipf popularity inside each topic, and the habits. */
export function buildCatalogue(numItems: number, numTopics: number, rng: Rng): Catalogue {
  const topicOf = shuffle(
    Array.from({ length: numItems }, (_, i) => i % numTopics),
    rng,
  );
  const itemsByTopic: number[][] = Array.from({ length: numTopics }, () => []);
  topicOf.forEach((topic, item) => itemsByTopic[topic]?.push(item));
  // A random order inside each topic decides who the hits are, so popularity is not tied to ids.
  for (const items of itemsByTopic) shuffle(items, rng);
  const popularityInTopic = itemsByTopic.map((ranked) =>
    createWeightedSampler(
      ranked,
      ranked.map((_, rank) => 1 / Math.pow(rank + 1, POPULARITY_EXPONENT)),
    ),
  );
  const base = { topicOf, itemsByTopic, popularityInTopic };
  const successors = topicOf.map((topic, item) => successorsOf(item, topic, base, rng));
  return { ...base, successors };
}

/**
 * Appends brand-new items in the given topics. They get successors like everyone else, so a user
 * who clicks one carries on with a habit, but nothing leads to them: they spread only through
 * their launch burst, which is what an online learner has to pick up.
 */
export function launchItems(catalogue: Catalogue, topics: readonly number[], rng: Rng): void {
  for (const topic of topics) {
    const item = catalogue.topicOf.length;
    catalogue.topicOf.push(topic);
    catalogue.successors.push(successorsOf(item, topic, catalogue, rng));
  }
}

/** The less popular half of each topic. */
export function unpopularHalf(catalogue: Catalogue): number[] {
  return catalogue.itemsByTopic.flatMap((ranked) => ranked.slice(Math.ceil(ranked.length / 2)));
}

/** How many favourite topics a group has: up to three, and never all of them, so a shift has somewhere to go. */
export function primaryTopicCount(numTopics: number): number {
  return Math.max(1, Math.min(PRIMARY_TOPIC_WEIGHTS.length, Math.floor(numTopics / 2)));
}

/** A group's distribution over topics given its favourites, most favoured first. */
export function tasteOver(primaries: readonly number[], numTopics: number): Float64Array {
  const weights = PRIMARY_TOPIC_WEIGHTS.slice(0, primaries.length);
  const spread = 1 - weights.reduce((sum, w) => sum + w, 0);
  const taste = new Float64Array(numTopics).fill(spread / numTopics);
  primaries.forEach((topic, k) => (taste[topic] = (taste[topic] as number) + (weights[k] as number)));
  return taste;
}

/**
 * Favourite topics per group, most favoured first. Each group's top topic is its own while there
 * are at least as many topics as groups, so no two groups look alike; the lesser favourites are
 * drawn at random and may overlap, as real tastes do.
 */
export function dealPrimaryTopics(numGroups: number, numTopics: number, rng: Rng): number[][] {
  const count = primaryTopicCount(numTopics);
  const deck = shuffle(
    Array.from({ length: numTopics }, (_, t) => t),
    rng,
  );
  return Array.from({ length: numGroups }, (_, g) => {
    const top = deck[g % numTopics] as number;
    const others = shuffle(
      deck.filter((t) => t !== top),
      rng,
    );
    return [top, ...others.slice(0, count - 1)];
  });
}

/** New favourites for a shifting group: topics it did not favour before, so its old habits stop paying off. */
export function shiftedPrimaryTopics(old: readonly number[], numTopics: number, rng: Rng): number[] {
  const fresh = shuffle(
    Array.from({ length: numTopics }, (_, t) => t).filter((t) => !old.includes(t)),
    rng,
  );
  return fresh.slice(0, old.length);
}
