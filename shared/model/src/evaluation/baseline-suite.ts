import type { Baseline } from './baseline.js';
import { ItemKnnBaseline, type ItemKnnOptions } from './item-knn-baseline.js';
import { MarkovBaseline } from './markov-baseline.js';
import { PopularityBaseline } from './popularity-baseline.js';
import { type EvaluationProtocol, type LeaveOneOut, type ProtocolSummary, SERVING_PROTOCOL, evaluateCases } from './protocol.js';

/** The classic baselines every report carries, freshly built (they learn as they are used). */
export function classicBaselines(options: { itemKnn?: ItemKnnOptions } = {}): Baseline[] {
  return [new PopularityBaseline(), new ItemKnnBaseline(options.itemKnn), new MarkovBaseline()];
}

/** Scores for each history from a baseline, as the batch ranker the protocol takes. */
export function baselineRanker(baseline: Baseline, numSlots: number) {
  return (histories: readonly (readonly number[])[]): Float32Array[] =>
    histories.map((history) => {
      const out = new Float32Array(numSlots);
      baseline.score(history, out);
      return out;
    });
}

/** Teaches a baseline every next-item step of the training sequences. */
export function fitBaseline(baseline: Baseline, sequences: readonly (readonly number[])[]): void {
  for (const seq of sequences) for (let i = 0; i < seq.length; i++) baseline.learn(seq.slice(0, i), seq[i] as number);
}

export interface BaselineRow {
  name: string;
  description: string;
  valid: ProtocolSummary;
  test: ProtocolSummary;
}

/** Values of item-kNN's `recent` tried on the validation targets; the best one is reported. */
export const ITEM_KNN_RECENT_GRID = [5, 10, 20, 50] as const;

/**
 * Each classic baseline fitted on the split's training part, on its validation and test cases.
 * Item-kNN's one free setting (how many recent items vote) is chosen on the validation targets,
 * as a model's would be, so the backbone is held against the baseline at its best on this log.
 */
export async function evaluateBaselines(
  split: LeaveOneOut,
  numSlots: number,
  protocol: EvaluationProtocol = SERVING_PROTOCOL,
  baselines: Baseline[] = classicBaselines(),
): Promise<BaselineRow[]> {
  const rows: BaselineRow[] = [];
  for (const baseline of baselines) {
    fitBaseline(baseline, split.train);
    if (baseline instanceof ItemKnnBaseline) await tuneRecent(baseline, split, numSlots, protocol);
    const ranker = baselineRanker(baseline, numSlots);
    rows.push({
      name: baseline.name,
      description: baseline.description,
      valid: await evaluateCases(ranker, split.valid, protocol),
      test: await evaluateCases(ranker, split.test, protocol),
    });
  }
  return rows;
}

async function tuneRecent(knn: ItemKnnBaseline, split: LeaveOneOut, numSlots: number, protocol: EvaluationProtocol): Promise<void> {
  let best = { recent: knn.recentItems, hr10: -1 };
  for (const recent of ITEM_KNN_RECENT_GRID) {
    knn.recentItems = recent;
    const { hr10 } = (await evaluateCases(baselineRanker(knn, numSlots), split.valid, protocol)).full;
    if (hr10 > best.hr10) best = { recent, hr10 };
  }
  knn.recentItems = best.recent;
}

/** The strongest baseline by a figure, and a value's ratio to it (how reports state a result). */
export function bestBaseline<T>(rows: readonly T[], figure: (row: T) => number): { row: T; value: number } | null {
  let best: { row: T; value: number } | null = null;
  for (const row of rows) {
    const value = figure(row);
    if (best === null || value > best.value) best = { row, value };
  }
  return best;
}
