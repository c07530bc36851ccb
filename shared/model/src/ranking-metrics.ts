/**
 * Ranking metrics for next-item recommendation.
 *
 * Two protocols exist in the literature and give very different numbers: ranking the target
 * against the whole catalogue ('full') and against 100 sampled negatives ('sampled-100'). The
 * sampled one inflates HR/NDCG and can even reorder models (Krichene & Rendle, "On Sampled
 * Metrics for Item Recommendation"), so every summary carries the protocol it was computed
 * under and the two are never mixed in one accumulator.
 */

export type RankingProtocol = 'full' | 'sampled-100';

/** The cut-off behind the `hr10` and `ndcg10` fields. */
export const RANKING_CUTOFF = 10;

/**
 * Slots a ranking leaves out: anything with `has`, so a view of a user's items needs no copy.
 * A filter that can also list its slots (`forEach`, each slot once; a Set<number> has both)
 * lets a pass over the catalogue skip asking `has` for every slot: a user has seen tens or
 * hundreds of items, the catalogue holds thousands.
 */
export interface SlotFilter {
  has(slot: number): boolean;
  forEach?(visit: (slot: number) => void): void;
}

function checkSlot(scores: Float32Array, slot: number, what: string): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= scores.length) {
    throw new RangeError(`${what} ${slot} is outside the ${scores.length} score slots`);
  }
}

/**
 * How much one competitor score pushes the target down: a strictly higher score costs a full
 * place, an equal one half a place. NaN competitors count as below everything, because a broken
 * score must not make the target look worse than it is; a NaN target is handled by the callers.
 */
function placesLost(competitor: number, targetScore: number): number {
  if (competitor > targetScore) return 1;
  if (competitor === targetScore) return 0.5;
  return 0;
}

/**
 * 0-based rank of `target` among `scores` (length = catalogue slots). Items in `exclude` (e.g.
 * already seen, padding) are skipped; ties count half (expected rank under random
 * tie-breaking), so a constant scorer is not rewarded.
 *
 * The target itself is always ranked even if `exclude` holds it (a user may click an item they
 * have seen before); exclusion only removes competitors. A NaN target score ranks last.
 * The result may be fractional (x.5) because of ties.
 */
export function fullRank(scores: Float32Array, target: number, exclude?: SlotFilter): number {
  checkSlot(scores, target, 'target');
  const targetScore = scores[target] ?? Number.NaN;
  const nanTarget = Number.isNaN(targetScore);
  if (exclude?.forEach !== undefined) {
    // Every competitor, then the listed ones taken back out: the places are 0, 1/2 or 1, so both
    // sums are exact and the difference is the filtered loop's rank to the bit.
    let rank = 0;
    for (let i = 0; i < scores.length; i++) {
      if (i !== target) rank += nanTarget ? 1 : placesLost(scores[i] as number, targetScore);
    }
    exclude.forEach((i) => {
      if (i !== target && i >= 0 && i < scores.length) rank -= nanTarget ? 1 : placesLost(scores[i] as number, targetScore);
    });
    return rank;
  }
  let rank = 0;
  for (let i = 0; i < scores.length; i++) {
    if (i === target || exclude?.has(i) === true) continue;
    rank += nanTarget ? 1 : placesLost(scores[i] ?? Number.NaN, targetScore);
  }
  return rank;
}

/**
 * Rank of target among itself + the given negatives only (the 100-sampled-negatives protocol).
 * Same tie and NaN rules as {@link fullRank}. A negative equal to the target is ignored.
 */
export function sampledRank(scores: Float32Array, target: number, negatives: Int32Array): number {
  checkSlot(scores, target, 'target');
  const targetScore = scores[target] ?? Number.NaN;
  const nanTarget = Number.isNaN(targetScore);
  let rank = 0;
  for (const negative of negatives) {
    checkSlot(scores, negative, 'negative');
    if (negative === target) continue;
    rank += nanTarget ? 1 : placesLost(scores[negative] ?? Number.NaN, targetScore);
  }
  return rank;
}

function checkRank(rank: number): void {
  if (!Number.isFinite(rank) || rank < 0) throw new RangeError(`rank must be finite and >= 0, got ${rank}`);
}

/** 1 if rank < k else 0. */
export function hitAtK(rank: number, k: number): number {
  checkRank(rank);
  return rank < k ? 1 : 0;
}

/** 1/log2(rank+2) if rank < k else 0: a single relevant item, so the ideal DCG is 1. */
export function ndcgAtK(rank: number, k: number): number {
  checkRank(rank);
  return rank < k ? 1 / Math.log2(rank + 2) : 0;
}

/** 1/(rank+1), uncut. */
export function reciprocalRank(rank: number): number {
  checkRank(rank);
  return 1 / (rank + 1);
}

export interface RankingSummary {
  protocol: RankingProtocol;
  /** Number of ranks added; 0 means no data, and then every metric reads 0. */
  count: number;
  hr10: number;
  ndcg10: number;
  mrr: number;
}

/** Means of HR@10, NDCG@10 and MRR over a set of ranks computed under one protocol. */
export class RankingAccumulator {
  readonly protocol: RankingProtocol;
  private count = 0;
  private hits = 0;
  private ndcgSum = 0;
  private rrSum = 0;

  constructor(protocol: RankingProtocol) {
    this.protocol = protocol;
  }

  add(rank: number): void {
    this.hits += hitAtK(rank, RANKING_CUTOFF);
    this.ndcgSum += ndcgAtK(rank, RANKING_CUTOFF);
    this.rrSum += reciprocalRank(rank);
    this.count++;
  }

  summary(): RankingSummary {
    const n = this.count;
    return {
      protocol: this.protocol,
      count: n,
      hr10: n === 0 ? 0 : this.hits / n,
      ndcg10: n === 0 ? 0 : this.ndcgSum / n,
      mrr: n === 0 ? 0 : this.rrSum / n,
    };
  }
}

/**
 * Does slot a (score sa) belong before slot b (score sb)? Higher score first, NaN last, and
 * equal scores by lower slot, so topK is deterministic and matches a stable full sort.
 */
function ranksBefore(sa: number, a: number, sb: number, b: number): boolean {
  const na = Number.isNaN(sa);
  const nb = Number.isNaN(sb);
  if (na !== nb) return nb;
  if (!na && sa !== sb) return sa > sb;
  return a < b;
}

/**
 * Top-k slot indices by score, descending, skipping excluded ones, by partial selection (a
 * bounded min-heap, O(n log k)), not a full sort. Ties go to the lower slot; NaN scores come
 * after every number. Returns fewer than k slots when fewer are eligible.
 */
export function topK(scores: Float32Array, k: number, exclude?: SlotFilter): Int32Array {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}`);
  const cap = Math.min(k, scores.length);
  // heap[0] is the worst of the kept slots, so a candidate only has to beat the root.
  const heap = new Int32Array(cap);
  let size = 0;
  const score = (slot: number): number => scores[slot] ?? Number.NaN;
  const worse = (i: number, j: number): boolean => {
    const a = heap[i] ?? 0;
    const b = heap[j] ?? 0;
    return ranksBefore(score(b), b, score(a), a);
  };
  const swap = (i: number, j: number): void => {
    const t = heap[i] ?? 0;
    heap[i] = heap[j] ?? 0;
    heap[j] = t;
  };
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(l, m)) m = l;
      if (r < size && worse(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };

  if (cap > 0) {
    for (let slot = 0; slot < scores.length; slot++) {
      if (exclude?.has(slot) === true) continue;
      if (size < cap) {
        heap[size] = slot;
        let i = size++;
        while (i > 0) {
          const parent = (i - 1) >> 1;
          if (!worse(i, parent)) break;
          swap(i, parent);
          i = parent;
        }
      } else {
        const root = heap[0] ?? 0;
        if (ranksBefore(score(slot), slot, score(root), root)) {
          heap[0] = slot;
          siftDown(0);
        }
      }
    }
  }

  // Pop the worst repeatedly, filling the output from the back: best first without a sort.
  const out = new Int32Array(size);
  for (let end = size - 1; end >= 0; end--) {
    out[end] = heap[0] ?? 0;
    size--;
    heap[0] = heap[size] ?? 0;
    siftDown(0);
  }
  return out;
}
