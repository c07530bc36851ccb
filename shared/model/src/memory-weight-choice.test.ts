import { describe, expect, it } from 'vitest';
import { createRng } from '@reco/data';
import { addMemory } from './co-visit-memory.js';
import { NOT_ITEMS, rankTarget } from './evaluation/protocol.js';
import { type MemoryRankingCase, chooseMemoryWeight } from './memory-weight-choice.js';
import { RankingAccumulator } from './ranking-metrics.js';

const SLOTS = 40;

/**
 * A click whose target the backbone ranks 13th (slots 2..39 score -0.2 down to -3.9), which the
 * memory scores `m`; with `decoys`, slots 20-31 too are in the memory, at 1.4 each.
 */
function click(target: number, m: number, decoys = false): MemoryRankingCase {
  const scores = new Float32Array(SLOTS);
  for (let s = 2; s < SLOTS; s++) scores[s] = -s * 0.1;
  scores[target] = -1.45;
  const slots = [target, ...(decoys ? Array.from({ length: 12 }, (_, i) => 20 + i) : [])];
  const values = slots.map((s) => (s === target ? m : 1.4));
  return { scores, memory: { slots: Int32Array.from(slots), values: Float32Array.from(values) }, target, excluded: NOT_ITEMS };
}

describe('chooseMemoryWeight', () => {
  it('picks the weight that ranks the clicks best, not a weight that merely moves them', () => {
    // The memory knows each target (value 1), which weight 1 lifts into the top 3 (-0.45). At
    // weight 8 two clicks in three have twelve decoys the memory scores higher (1.4) lifted past the
    // target, and 0.25 lifts nothing into the top 10: 1 ranks best.
    const cases = [...Array.from({ length: 4 }, () => click(35, 1)), ...Array.from({ length: 8 }, () => click(36, 1, true))];
    const choice = chooseMemoryWeight(cases, 0, [0, 0.25, 1, 8]);
    expect(choice.weight).toBe(1);
    expect(choice.ndcg10).toBeGreaterThan(choice.currentNdcg10);
    expect(choice.currentNdcg10).toBe(0);
    // The cases' scores are left as they were.
    expect(cases[0]?.scores[35]).toBeCloseTo(-1.45, 5);
  });

  it('keeps the current weight unless another ranks strictly better, and counts it even off the grid', () => {
    // A memory that says nothing useful: every weight ranks the same.
    const flat = Array.from({ length: 5 }, () => click(35, 0));
    expect(chooseMemoryWeight(flat, 0.7, [0, 1, 2]).weight).toBe(0.7);
    expect(chooseMemoryWeight(flat, 2, [0, 1, 2]).weight).toBe(2);
    // No clicks: nothing to judge by.
    expect(chooseMemoryWeight([], 0.3).weight).toBe(0.3);
  });

  it('ranks under the cases’ exclusion: an excluded competitor does not count', () => {
    const c = click(35, 0);
    const excluded = new Set([...NOT_ITEMS, ...Array.from({ length: 10 }, (_, i) => 2 + i)]);
    // Thirteen ahead of the target, ten of them excluded: rank 3.
    const choice = chooseMemoryWeight([{ ...c, excluded }], 0, [0, 1]);
    expect(choice.currentNdcg10).toBeCloseTo(1 / Math.log2(5), 6);
  });

  it('gives each weight the NDCG@10 that ranking scores + w · memory with rankTarget gives, ties and exclusions included', () => {
    const rng = createRng(7);
    const cases: MemoryRankingCase[] = Array.from({ length: 60 }, (_, n) => {
      // Coarse scores, so ties happen; a few memory slots, some on excluded items and on the target.
      const scores = Float32Array.from({ length: 300 }, () => Math.round(rng.next() * 20) / 4);
      const target = n === 0 ? -1 : 2 + rng.int(298);
      const slots = Array.from(new Set([target, ...Array.from({ length: 8 }, () => 2 + rng.int(298))])).filter((s) => s >= 0);
      const excluded = new Set([...NOT_ITEMS, ...Array.from({ length: 30 }, () => 2 + rng.int(298))]);
      return { scores, memory: { slots: Int32Array.from(slots), values: Float32Array.from(slots, () => Math.round(rng.next() * 8) / 4) }, target, excluded };
    });
    for (const w of [0, 0.25, 1, 3]) {
      const expected = new RankingAccumulator('full');
      for (const c of cases) {
        const scores = Float32Array.from(c.scores);
        addMemory(scores, c.memory, w);
        expected.add(rankTarget(scores, c.target, c.excluded));
      }
      expect(chooseMemoryWeight(cases, w, [w]).currentNdcg10).toBeCloseTo(expected.summary().ndcg10, 12);
      // An exclusion that can only be asked (no forEach) gives the same figure to the bit.
      const asked = cases.map((c) => ({ ...c, excluded: { has: (slot: number) => c.excluded.has(slot) } }));
      expect(chooseMemoryWeight(asked, w, [w]).currentNdcg10).toBe(chooseMemoryWeight(cases, w, [w]).currentNdcg10);
    }
  });
});
