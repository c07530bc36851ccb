import type { Interaction } from '@reco/data';
import type { ItemCatalogue } from '../item-catalogue.js';

/** Per-user catalogue-slot histories from a log, users in first-seen order (for test batches). */
export function userHistories(log: readonly Interaction[], catalogue: ItemCatalogue): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of log) {
    const slot = catalogue.ensureSlot(e.itemId);
    if (slot === undefined) continue;
    let h = out.get(e.userId);
    if (h === undefined) out.set(e.userId, (h = []));
    h.push(slot);
  }
  return out;
}
