import type { Interaction } from '@reco/data';
import { FIRST_ITEM_ID } from '../backbone-config.js';
import { type PrequentialFigures, PrequentialTracker, type PrequentialWindow } from '../prequential.js';
import { UserHistories } from '../user-histories.js';
import type { Baseline } from './baseline.js';
import { classicBaselines } from './baseline-suite.js';
import { type EvaluationProtocol, SERVING_PROTOCOL, exclusionFor, rankTarget } from './protocol.js';

export interface BaselineReplay {
  name: string;
  description: string;
  overall: PrequentialFigures;
  first: PrequentialWindow | null;
  last: PrequentialWindow | null;
  windows: PrequentialWindow[];
  /** Clicks on items absent from the seed log (the backbone's "new items"). */
  newItems: PrequentialFigures;
}

export interface BaselineReplayOptions {
  protocol?: EvaluationProtocol;
  window: number;
  /** Longest history a baseline is shown (the recent items it votes with). */
  historyLength?: number;
  baselines?: Baseline[];
}

/**
 * The classic baselines test-then-train over a stream, under the trainer's rules: they first
 * count the seed log (what the backbone was pretrained on), then every click of a user with a
 * history is ranked first (full ranking, the protocol's exclusions, as of that click) and
 * counted after. A user's first click has nothing to rank from, as for the trainer.
 * Their catalogue is unbounded: any item seen so far can be recommended.
 */
export function replayBaselines(seed: readonly Interaction[], stream: readonly Interaction[], options: BaselineReplayOptions): BaselineReplay[] {
  const protocol = options.protocol ?? SERVING_PROTOCOL;
  const baselines = options.baselines ?? classicBaselines();
  const histories = new UserHistories(options.historyLength ?? 200, Number.MAX_SAFE_INTEGER);
  const slots = new Map<string, number>();
  const slotOf = (itemId: string): number => {
    let slot = slots.get(itemId);
    if (slot === undefined) {
      slot = slots.size + FIRST_ITEM_ID;
      slots.set(itemId, slot);
    }
    return slot;
  };
  const learn = (event: Interaction): number => {
    const slot = slotOf(event.itemId);
    const history = histories.get(event.userId);
    for (const b of baselines) b.learn(history, slot);
    histories.append(event.userId, slot);
    return slot;
  };
  for (const event of seed) learn(event);
  const seedItems = slots.size;
  const trackers = baselines.map(() => ({ all: new PrequentialTracker({ windowSize: options.window }), fresh: new PrequentialTracker({ windowSize: Math.max(1, Math.floor(options.window / 10)) }) }));
  let scores = new Float32Array(0);
  for (const event of stream) {
    const history = histories.get(event.userId);
    if (history.length > 0) {
      const target = slotOf(event.itemId);
      const newItem = target - FIRST_ITEM_ID >= seedItems;
      const numSlots = slots.size + FIRST_ITEM_ID;
      if (scores.length !== numSlots) scores = new Float32Array(numSlots);
      const excluded = exclusionFor(protocol, histories.seenBefore(event.userId, histories.seenCount(event.userId)));
      baselines.forEach((b, i) => {
        b.score(history, scores);
        const rank = rankTarget(scores, target, excluded);
        const tracker = trackers[i] as (typeof trackers)[number];
        tracker.all.record(rank, event.ts);
        if (newItem) tracker.fresh.record(rank, event.ts);
      });
    }
    learn(event);
  }
  return baselines.map((b, i) => {
    const t = trackers[i] as (typeof trackers)[number];
    return { name: b.name, description: b.description, overall: t.all.overall(), first: t.all.first(), last: t.all.last(), windows: t.all.windows(), newItems: t.fresh.overall() };
  });
}
