import type { ItemDirectory, ItemFilter } from './item-directory.js';
import type { PopularityCounter, PopularItem } from './popularity.js';

/**
 * The answer for a user the model cannot rank for (no history), and what completes a model answer
 * that came up short (a category filter, or a catalogue that knows more items than the model):
 * the most popular items (pretraining counts blended with live clicks), then the rest of the
 * catalogue in its order with score 0, so an answer has k items whenever the catalogue has k that
 * the filter lets through. `taken` are items the answer already has.
 */
export function popularItems(popularity: PopularityCounter, directory: ItemDirectory, k: number, filter: ItemFilter, taken: ReadonlySet<string> = new Set()): PopularItem[] {
  const accepts = directory.accepts(filter);
  const accept = (itemId: string): boolean => !taken.has(itemId) && accepts(itemId);
  const items = popularity.top(k, accept);
  if (items.length >= k) return items;
  const chosen = new Set(items.map((i) => i.itemId));
  for (const itemId of directory.candidates(filter.category)) {
    if (items.length >= k) break;
    if (!chosen.has(itemId) && accept(itemId)) items.push({ itemId, score: 0 });
  }
  return items;
}
