import { createRng } from '@reco/data';
import { FIRST_ITEM_ID, PAD_ID, UNK_ID } from '../backbone-config.js';
import { NegativeSampler } from '../negative-sampler.js';
import { RankingAccumulator, type RankingSummary, type SlotFilter, fullRank, sampledRank } from '../ranking-metrics.js';

/**
 * The one evaluation protocol of the product: pretraining's model selection, `eval`'s report
 * and the updater's prequential gauge all rank through this module, so a figure in one place
 * means the same thing as in another.
 *
 * It is the protocol serving lives by: a user is never recommended what they already have, so
 * those items are taken out of the competition (`excludeSeen`, on by default; turn it off only
 * for data with repeat consumption). Two rankings are reported, always labelled: the target
 * against the whole catalogue ('full', the one that predicts what users get) and against 100
 * sampled unseen items ('sampled-100', only for comparison with papers that use it).
 */
export interface EvaluationProtocol {
  excludeSeen: boolean;
}

export const SERVING_PROTOCOL: Readonly<EvaluationProtocol> = Object.freeze({ excludeSeen: true });

/** Slots that are never items: they never compete and never count against a target. */
export const NOT_ITEMS: ReadonlySet<number> = new Set([PAD_ID, UNK_ID]);

export function describeProtocol(protocol: EvaluationProtocol, ranking: RankingSummary['protocol'] = 'full'): string {
  const against = ranking === 'full' ? 'full ranking over the catalogue' : '100 sampled unseen negatives';
  return `${against}, seen items ${protocol.excludeSeen ? 'excluded' : 'kept'}`;
}

/** A user's items before the target, oldest first, and the item they went on to. */
export interface RankingCase {
  history: readonly number[];
  target: number;
}

/** What `rank` leaves out of the competition for a user who has `history`. */
export function competitorsExcluded(protocol: EvaluationProtocol, history: Iterable<number>): ReadonlySet<number> {
  if (!protocol.excludeSeen) return NOT_ITEMS;
  const out = new Set(NOT_ITEMS);
  for (const slot of history) out.add(slot);
  return out;
}

/** A rank past every cut-off (and past any catalogue), for a target that could not be scored at all. */
export const MISS_RANK = 1e9;

/**
 * The same exclusion for a user whose seen items are a view (the online trainer's histories):
 * non-items always, seen items when the protocol says so.
 */
export function exclusionFor(protocol: EvaluationProtocol, seen: SlotFilter): SlotFilter {
  if (!protocol.excludeSeen) return NOT_ITEMS;
  const has = (slot: number): boolean => NOT_ITEMS.has(slot) || seen.has(slot);
  if (seen.forEach === undefined) return { has };
  return {
    has,
    forEach: (visit) => {
      NOT_ITEMS.forEach((slot) => visit(slot));
      seen.forEach?.((slot) => {
        if (!NOT_ITEMS.has(slot)) visit(slot);
      });
    },
  };
}

/**
 * 0-based rank of the target under the protocol's full ranking. A target outside `scores` (an
 * item the scorer has no slot for, such as a new item refused by a full side table) ranks
 * behind every item: it is a miss, never a skipped case, so a scorer cannot look better by
 * declining the hard ones.
 */
export function rankTarget(scores: Float32Array, target: number, excluded: SlotFilter): number {
  if (target < 0 || target >= scores.length) return MISS_RANK;
  return fullRank(scores, target, excluded);
}

export interface ProtocolSummary {
  /** e.g. "full ranking over the catalogue, seen items excluded". */
  label: string;
  full: RankingSummary;
  sampled: RankingSummary;
}

/**
 * Accumulates both rankings of a list of cases. The sampled negatives come from a fixed seed
 * and depend only on the case sequence and the catalogue size, so every scorer evaluated on the
 * same cases faces the same negatives.
 */
export class ProtocolAccumulator {
  readonly protocol: EvaluationProtocol;
  private readonly full = new RankingAccumulator('full');
  private readonly sampled = new RankingAccumulator('sampled-100');
  private sampler: NegativeSampler | null = null;
  private readonly seed: number;

  constructor(protocol: EvaluationProtocol = SERVING_PROTOCOL, seed = 20_240_601) {
    this.protocol = protocol;
    this.seed = seed;
  }

  /** Records one case scored over every slot; returns its full-ranking rank. */
  add(scores: Float32Array, rankingCase: RankingCase): number {
    const excluded = competitorsExcluded(this.protocol, rankingCase.history);
    const rank = rankTarget(scores, rankingCase.target, excluded);
    this.full.add(rank);
    if (rankingCase.target < scores.length) {
      const negatives = this.negatives(scores.length, rankingCase.target, excluded);
      this.sampled.add(sampledRank(scores, rankingCase.target, negatives));
    } else {
      this.sampled.add(MISS_RANK);
    }
    return rank;
  }

  summary(): ProtocolSummary {
    return { label: describeProtocol(this.protocol), full: this.full.summary(), sampled: this.sampled.summary() };
  }

  private negatives(numSlots: number, target: number, excluded: ReadonlySet<number>): Int32Array {
    if (this.sampler === null) this.sampler = new NegativeSampler({ rng: createRng(this.seed), numSlots, firstValidSlot: FIRST_ITEM_ID });
    else if (numSlots > this.sampler.numSlots) this.sampler.grow(numSlots);
    return this.sampler.sampleForEvaluation(target, excluded);
  }
}


/** Scores a batch of histories over every slot, one row per history. */
export type BatchRanker = (histories: readonly (readonly number[])[]) => Promise<Float32Array[]> | Float32Array[];

export async function evaluateCases(
  ranker: BatchRanker,
  cases: readonly RankingCase[],
  protocol: EvaluationProtocol = SERVING_PROTOCOL,
  batchSize = 128,
): Promise<ProtocolSummary> {
  const accumulator = new ProtocolAccumulator(protocol);
  for (let start = 0; start < cases.length; start += batchSize) {
    const chunk = cases.slice(start, start + batchSize);
    const rows = await ranker(chunk.map((c) => c.history));
    chunk.forEach((c, i) => accumulator.add(rows[i] as Float32Array, c));
  }
  return accumulator.summary();
}

/**
 * Leave-one-out over per-user sequences (oldest first): the last item is the test target, the
 * one before it the validation target (for model selection), the rest is training. Users with
 * fewer than 3 items train only, because they leave nothing to validate on.
 */
export interface LeaveOneOut {
  train: number[][];
  valid: RankingCase[];
  test: RankingCase[];
}

export function leaveOneOut(sequences: Iterable<readonly number[]>): LeaveOneOut {
  const out: LeaveOneOut = { train: [], valid: [], test: [] };
  for (const seq of sequences) {
    if (seq.length < 3) {
      out.train.push([...seq]);
      continue;
    }
    const train = seq.slice(0, -2);
    out.train.push(train);
    out.valid.push({ history: train, target: seq[seq.length - 2] as number });
    out.test.push({ history: seq.slice(0, -1), target: seq[seq.length - 1] as number });
  }
  return out;
}
