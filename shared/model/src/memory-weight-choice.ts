import type { SparseScores } from './co-visits.js';
import { MISS_RANK } from './evaluation/protocol.js';
import { RankingAccumulator, type SlotFilter } from './ranking-metrics.js';

/**
 * The weights w of the co-visit memory that the trainer chooses among (co-visit-memory.ts). The
 * memory is log(1 + 10 · knn), about 0 to 4; the backbone's scores spread over some 10 to 20 nats
 * across the catalogue, so 8 lets the memory outrank the backbone almost everywhere it speaks.
 */
export const MEMORY_WEIGHT_GRID: readonly number[] = [0, 0.25, 0.5, 1, 2, 4, 8];

/** One holdout click as the gate ranks it: the method's scores without the memory term. */
export interface MemoryRankingCase {
  /** Scores over every catalogue slot, memory left out; not modified. */
  scores: Float32Array;
  memory: SparseScores;
  target: number;
  excluded: SlotFilter;
}

export interface MemoryWeightChoice {
  weight: number;
  ndcg10: number;
  /** The NDCG@10 the current weight had on the same clicks. */
  currentNdcg10: number;
}

/**
 * The memory weight that ranks the given clicks best, by NDCG@10 under the protocol the cases
 * carry (what users get), among the grid and the current weight; the current one is kept unless
 * another does strictly better.
 *
 * Why not the loss: the weight that minimises the softmax loss is not the one that ranks best.
 * The loss pays dearly for the few clicks the memory scores confidently and wrongly, the top 10
 * does not. Over the whole MovieLens latest-small stream, frozen backbone plus a fixed w
 * (`npm run ablate:memory -- --stream-events 30251`): the loss is lowest near w = 0.5 (HR@10 0.103),
 * HR@10 still rises at w = 2 (0.118; 0.082 without the memory). Trained by gradient, w settled
 * near the loss's optimum.
 */
export function chooseMemoryWeight(cases: readonly MemoryRankingCase[], current: number, grid: readonly number[] = MEMORY_WEIGHT_GRID): MemoryWeightChoice {
  const weights = grid.includes(current) ? [...grid] : [current, ...grid];
  const accumulators = weights.map(() => new RankingAccumulator('full'));
  const ranks = new Float64Array(weights.length);
  let plain = new Float32Array(0);
  for (const c of cases) {
    if (plain.length < c.scores.length) plain = new Float32Array(c.scores.length);
    ranksByWeight(c, weights, plain, ranks);
    ranks.forEach((rank, i) => accumulators[i]?.add(rank));
  }
  const ndcg = accumulators.map((a) => (cases.length === 0 ? 0 : a.summary().ndcg10));
  const currentNdcg10 = ndcg[weights.indexOf(current)] ?? 0;
  let best = weights.indexOf(current);
  ndcg.forEach((value, i) => {
    if (value > (ndcg[best] ?? 0)) best = i;
  });
  return { weight: weights[best] ?? current, ndcg10: ndcg[best] ?? currentNdcg10, currentNdcg10 };
}

const COMPETES = 0;
const EXCLUDED = 1;
const MOVING = 2;
let marksBuffer = new Uint8Array(0);

/** A zeroed (all COMPETES) mark per slot, reused across calls (ranking is synchronous). */
function markScratch(slots: number): Uint8Array {
  if (marksBuffer.length < slots) marksBuffer = new Uint8Array(slots);
  const marks = marksBuffer.subarray(0, slots);
  marks.fill(COMPETES);
  return marks;
}

/**
 * The target's rank at each weight, as rankTarget would give it on scores + w · memory (float32
 * sums, ties half), from one pass over the catalogue: the exclusion is asked once per slot, and
 * only the memory's few slots move with w.
 */
function ranksByWeight(c: MemoryRankingCase, weights: readonly number[], plain: Float32Array, out: Float64Array): void {
  const { scores, memory, target, excluded } = c;
  if (target < 0 || target >= scores.length) {
    out.fill(MISS_RANK);
    return;
  }
  const inMemory = new Map<number, number>();
  for (let i = 0; i < memory.slots.length; i++) {
    const slot = memory.slots[i] as number;
    if (slot < scores.length) inMemory.set(slot, (inMemory.get(slot) ?? 0) + (memory.values[i] as number));
  }
  // Which slots compete, and which of them move with w, marked once instead of asking the
  // exclusion and the memory's Map for every slot of the catalogue.
  const marks = markScratch(scores.length);
  if (excluded.forEach !== undefined) {
    excluded.forEach((j) => {
      if (j >= 0 && j < scores.length) marks[j] = EXCLUDED;
    });
  } else {
    for (let j = 0; j < scores.length; j++) if (excluded.has(j)) marks[j] = EXCLUDED;
  }
  marks[target] = EXCLUDED;
  for (const slot of inMemory.keys()) if (marks[slot] !== EXCLUDED) marks[slot] = MOVING;
  let count = 0;
  const moving: Array<[number, number]> = [];
  for (let j = 0; j < scores.length; j++) {
    const mark = marks[j];
    if (mark === EXCLUDED) continue;
    if (mark === COMPETES) plain[count++] = scores[j] as number;
    else moving.push([scores[j] as number, inMemory.get(j) as number]);
  }
  const targetMemory = inMemory.get(target) ?? 0;
  weights.forEach((w, i) => {
    const t = Math.fround((scores[target] as number) + w * targetMemory);
    if (Number.isNaN(t)) {
      out[i] = count + moving.length;
      return;
    }
    let rank = 0;
    for (let j = 0; j < count; j++) {
      const s = plain[j] as number;
      if (s > t) rank += 1;
      else if (s === t) rank += 0.5;
    }
    for (const [base, m] of moving) {
      const s = Math.fround(base + w * m);
      if (s > t) rank += 1;
      else if (s === t) rank += 0.5;
    }
    out[i] = rank;
  });
}
