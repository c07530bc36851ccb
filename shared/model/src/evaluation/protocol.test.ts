import { describe, expect, it } from 'vitest';
import { FIRST_ITEM_ID } from '../backbone-config.js';
import { UserHistories } from '../user-histories.js';
import { NOT_ITEMS, ProtocolAccumulator, SERVING_PROTOCOL, describeProtocol, evaluateCases, exclusionFor, leaveOneOut, rankTarget, competitorsExcluded } from './protocol.js';

describe('the evaluation protocol', () => {
  it("a user's exclusion lists exactly the slots it says it holds, each once, as of the click it is asked for", () => {
    const histories = new UserHistories(3, 10);
    // Slot 1 (UNK) in the history too: listed once, as a non-item.
    for (const slot of [7, 4, 7, 1, 9, 12]) histories.append('u', slot);
    for (const count of [0, 1, 3, 5, 9]) {
      const filter = exclusionFor(SERVING_PROTOCOL, histories.seenBefore('u', count));
      const listed: number[] = [];
      filter.forEach?.((slot) => listed.push(slot));
      const asked = Array.from({ length: 20 }, (_, slot) => slot).filter((slot) => filter.has(slot));
      expect([...listed].sort((a, b) => a - b)).toEqual(asked);
      expect(new Set(listed).size).toBe(listed.length);
    }
    // Seen items are kept past the recent window (maxLength 3): 7 was first.
    expect(exclusionFor(SERVING_PROTOCOL, histories.seenBefore('u', 1)).has(7)).toBe(true);
    expect(exclusionFor({ excludeSeen: false }, histories.seenBefore('u', 5))).toBe(NOT_ITEMS);
  });

  it('leave-one-out: last item is test, the one before validation, the rest training', () => {
    const split = leaveOneOut([[2, 3, 4, 5], [6, 7]]);
    expect(split.train).toEqual([[2, 3], [6, 7]]);
    expect(split.valid).toEqual([{ history: [2, 3], target: 4 }]);
    expect(split.test).toEqual([{ history: [2, 3, 4], target: 5 }]);
  });

  it('excludes seen items as serving does, and says so in its label', () => {
    const scores = Float32Array.from([0, 0, 9, 8, 1]);
    // Target 4 scores below seen items 2 and 3: with them excluded it ranks first.
    expect(rankTarget(scores, 4, competitorsExcluded({ excludeSeen: true }, [2, 3]))).toBe(0);
    expect(rankTarget(scores, 4, competitorsExcluded({ excludeSeen: false }, [2, 3]))).toBe(2);
    expect(describeProtocol({ excludeSeen: true })).toBe('full ranking over the catalogue, seen items excluded');
    expect(describeProtocol({ excludeSeen: false }, 'sampled-100')).toBe('100 sampled unseen negatives, seen items kept');
  });

  it('a target the scorer has no slot for is a miss, not a skipped case', () => {
    const acc = new ProtocolAccumulator();
    acc.add(Float32Array.from([0, 0, 1, 2]), { history: [2], target: 7 });
    const summary = acc.summary();
    expect(summary.full.count).toBe(1);
    expect(summary.full.hr10).toBe(0);
    expect(summary.sampled.hr10).toBe(0);
  });

  it('ranks a batch of cases with both rankings, labelled', async () => {
    const slots = 200;
    // A ranker that always puts the target first: both protocols read 1.
    const cases = Array.from({ length: 5 }, (_, i) => ({ history: [FIRST_ITEM_ID + i], target: FIRST_ITEM_ID + 50 + i }));
    const ranker = (histories: readonly (readonly number[])[]) =>
      histories.map((h) => {
        const s = new Float32Array(slots);
        s[(h[0] as number) + 50] = 1;
        return s;
      });
    const summary = await evaluateCases(ranker, cases);
    expect(summary.full).toMatchObject({ protocol: 'full', count: 5, hr10: 1, ndcg10: 1 });
    expect(summary.sampled).toMatchObject({ protocol: 'sampled-100', count: 5, hr10: 1 });
    expect(summary.label).toContain('seen items excluded');
  });
});
