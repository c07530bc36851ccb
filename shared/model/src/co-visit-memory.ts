import { CoVisits, NO_SCORES, type SparseScores } from './co-visits.js';
import type { CandidateSet } from './sampled-softmax-loss.js';

/**
 * The co-visit memory beside the backbone: every adapting method scores
 *   s(u, i) = h'_u · E'_i + b_i + w · m(u, i)
 * where m(u, i) grows with the item-kNN score that the click stream's co-visit counts give item i for
 * the user's recent items (CoVisits), kept to the `MEMORY_SLOTS` best items of the history, and
 * w is one trained weight in the side parameters (zero at start, so every method still starts
 * as the frozen backbone, and `frozen` never has it).
 *
 * Why: on a real log the stream is largely users and items the backbone saw little of, and the
 * co-occurrence among what is being clicked now is exactly what a frozen item table cannot
 * learn and what a shared side network learns badly (it learns the current user's taste and
 * answers the next user with it: docs/online-ablation.md). Counts learn it without forgetting
 * and without gradient; the trainer learns how far to trust them, and the gate judges the result.
 *
 * The counts are data, not parameters: the updater and every serving replica count the same
 * clicks topic, so a snapshot carries only w. A click is scored with the counts as they stood
 * before it (the trainer stores each example's memory when it books it, so training never sees
 * a count of its own target click).
 */
export const MEMORY_SLOTS = 100;

/**
 * m = log(1 + MEMORY_SCALE · knn). Cosine sums over ten recent items run from about 0.01 to 6;
 * linear, the few largest would own the softmax. `npm run ablate:memory` on MovieLens
 * latest-small (docs/ablate-memory.json): with the linear feature the loss the trainer minimises
 * stops falling below w = 0.1 (its slope turns positive there), where HR@10 has gained under
 * 11 % over the backbone, and climbs fast past it (15.2 at w = 1 against 7.3); with the log the
 * slope crosses zero between w = 0.25 and 0.5, where HR@10 has gained 10-14 %.
 */
export const MEMORY_SCALE = 10;

/** A history's memory: its best co-visited slots and their values m (see MEMORY_SLOTS and MEMORY_SCALE). */
export function memoryOf(visits: CoVisits, history: readonly number[]): SparseScores {
  if (history.length === 0) return NO_SCORES;
  const top = visits.top(history, MEMORY_SLOTS);
  for (let i = 0; i < top.values.length; i++) top.values[i] = Math.log1p((top.values[i] as number) * MEMORY_SCALE);
  return top;
}

/** scores[slot] += weight * m for the memory's slots that are inside `scores`. */
export function addMemory(scores: Float32Array, memory: SparseScores, weight: number): void {
  if (weight === 0) return;
  const { slots, values } = memory;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i] as number;
    if (slot < scores.length) scores[slot] = (scores[slot] as number) + weight * (values[i] as number);
  }
}

/** The memory of each example at each candidate column, row-major [examples, candidates]. */
export function candidateMemory(memories: readonly SparseScores[], candidates: CandidateSet): Float32Array {
  const columns = candidates.slots.length;
  const column = new Map<number, number>();
  candidates.slots.forEach((slot, c) => column.set(slot, c));
  const out = new Float32Array(memories.length * columns);
  memories.forEach((memory, row) => {
    for (let i = 0; i < memory.slots.length; i++) {
      const c = column.get(memory.slots[i] as number);
      if (c !== undefined) out[row * columns + c] = memory.values[i] as number;
    }
  });
  return out;
}

/** An index no item gets, so its count is 0. */
const NEVER_COUNTED = 2 ** 30;

/**
 * Co-visit counts kept by item id, for a service whose models each number items their own way
 * (serving: every snapshot's catalogue has its own side slots). It counts in a dense index of its
 * own and hands a model its memory in that model's slots.
 */
export class ItemCoVisits {
  private readonly visits: CoVisits;
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [];

  constructor(visits: CoVisits = new CoVisits()) {
    this.visits = visits;
  }

  /** Items counted so far. */
  get items(): number {
    return this.ids.length;
  }

  /** Counts a click on `itemId` by a user whose items before it were `history` (oldest first). */
  learn(history: readonly string[], itemId: string): void {
    this.visits.learn(
      history.map((id) => this.indexOf(id)),
      this.indexOf(itemId),
    );
  }

  /** The memory of `history` in the slots `slotOf` gives (items it has no slot for are left out). */
  memory(history: readonly string[], slotOf: (itemId: string) => number | undefined): SparseScores {
    // An item never counted keeps its place among the recent items (and votes for nothing), as
    // in the trainer's histories; it is not registered, so request histories cannot grow the index.
    const own = memoryOf(
      this.visits,
      history.map((id) => this.index.get(id) ?? NEVER_COUNTED),
    );
    const slots: number[] = [];
    const values: number[] = [];
    own.slots.forEach((i, n) => {
      const slot = slotOf(this.ids[i] as string);
      if (slot === undefined) return;
      slots.push(slot);
      values.push(own.values[n] as number);
    });
    return slots.length === 0 ? NO_SCORES : { slots: Int32Array.from(slots), values: Float32Array.from(values) };
  }

  private indexOf(itemId: string): number {
    let i = this.index.get(itemId);
    if (i === undefined) {
      i = this.ids.length;
      this.index.set(itemId, i);
      this.ids.push(itemId);
    }
    return i;
  }
}
