import { type Interaction, groupByUser } from '@reco/data';
import { FIRST_ITEM_ID } from './backbone-config.js';
import { type LeaveOneOut, leaveOneOut } from './evaluation/protocol.js';

/**
 * The pretraining log as the backbone sees it: a vocabulary slot per item (in order of first
 * appearance, so the same log always gives the same ids), and the leave-one-out split of the
 * evaluation protocol (test = each user's last item, validation = the one before, training =
 * the rest). Only training items are counted for popularity; validation and test targets stay
 * unseen by everything that learns.
 */
export interface PretrainData {
  itemIds: string[];
  split: LeaveOneOut;
  /** Training-part click count per slot: what the popularity fallback starts from. */
  counts: Float32Array;
}

export function preparePretrainData(interactions: readonly Interaction[]): PretrainData {
  const itemIds: string[] = [];
  const slot = new Map<string, number>();
  const byUser = groupByUser(interactions);
  for (const events of byUser.values()) {
    for (const e of events) {
      if (!slot.has(e.itemId)) {
        slot.set(e.itemId, itemIds.length + FIRST_ITEM_ID);
        itemIds.push(e.itemId);
      }
    }
  }
  // Sorted by user id so the windows do not depend on the log's user order.
  const users = [...byUser.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const split = leaveOneOut(users.map(([, events]) => events.map((e) => slot.get(e.itemId) as number)));
  const counts = new Float32Array(itemIds.length + FIRST_ITEM_ID);
  for (const seq of split.train) for (const s of seq) counts[s] = (counts[s] ?? 0) + 1;
  return { itemIds, split, counts };
}

/**
 * Training windows of up to maxLen + 1 slots. Each epoch cuts every training sequence at a
 * fresh random offset, so over the epochs every item is seen with many different contexts (a
 * fixed cut would always pair the same items at the same positions); the newest window always
 * ends at the sequence's last training item.
 */
export function trainingWindows(sequences: readonly number[][], maxLen: number, offset: (n: number) => number): number[][] {
  const windows: number[][] = [];
  for (const seq of sequences) {
    if (seq.length < 2) continue;
    const shift = seq.length > maxLen + 1 ? offset(maxLen) : 0;
    for (let end = seq.length - shift; end >= 2; end -= maxLen) windows.push(seq.slice(Math.max(0, end - maxLen - 1), end));
    if (shift > 0) windows.push(seq.slice(Math.max(0, seq.length - maxLen - 1)));
  }
  return windows;
}
