export interface RankedItem {
  itemId: string;
  score: number;
}

/**
 * Why two top-k lists disagree, or undefined when they agree up to float noise: the same length,
 * scores equal within `tolerance` position by position, and where the item ids differ, only
 * because two items scored within `tolerance` of each other swapped places.
 *
 * Two engines (TF.js and ONNX Runtime, or a TF.js matrix product and a plain loop) add the same
 * numbers in different orders, so their scores agree to about 1e-5, not bit for bit; a test that
 * compares a served answer with an offline recompute on another path needs this, not toEqual.
 */
export function rankingMismatch(actual: readonly RankedItem[], expected: readonly RankedItem[], tolerance = 1e-3): string | undefined {
  if (actual.length !== expected.length) return `${actual.length} items, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as RankedItem;
    const e = expected[i] as RankedItem;
    if (!(Math.abs(a.score - e.score) <= tolerance)) return `item ${i}: score ${a.score}, expected ${e.score} (${e.itemId})`;
    if (a.itemId === e.itemId) continue;
    const twin = expected.find((x) => x.itemId === a.itemId);
    if (twin === undefined || !(Math.abs(twin.score - a.score) <= tolerance)) return `item ${i}: ${a.itemId} (${a.score}), expected ${e.itemId} (${e.score})`;
  }
  return undefined;
}
