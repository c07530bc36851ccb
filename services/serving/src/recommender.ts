import * as tf from '@tensorflow/tfjs-core';
import type { LiveModel } from './live-model.js';
import { encodeSequences, PAD_ID, topK, UNK_ID, type ItemCatalogue, type SequenceBatch } from './model-api.js';

export interface ScoredItem {
  itemId: string;
  score: number;
}

/**
 * Backbone input for one user history (item ids, oldest first) under one model. Items the
 * model's catalogue does not know are read as UNK, like the backbone was trained to. The
 * catalogue is only read (`slotOf`), never extended: the model is shared and immutable.
 */
function encodeHistory(model: LiveModel, history: readonly string[]): SequenceBatch {
  const { catalogue } = model.adaptation;
  const slots = history.map((id) => catalogue.slotOf(id) ?? UNK_ID);
  return encodeSequences([slots], catalogue, model.adaptation.backbone.config.maxLen);
}

/** Scores of every catalogue slot for one user history under one model, through TF.js. */
export async function scoreHistory(model: LiveModel, history: readonly string[]): Promise<Float32Array> {
  const { adaptation } = model;
  const input = await adaptation.prepare(encodeHistory(model, history));
  try {
    const scores = tf.tidy(() => adaptation.scores(input));
    try {
      return (await scores.data()) as Float32Array;
    } finally {
      scores.dispose();
    }
  } finally {
    input.dispose();
  }
}

/**
 * Top-k items of a history under a model, never recommending `exclude` (ids), an item `accept`
 * refuses (unavailable, outside the requested category), or PAD/UNK.
 *
 * A model with a fast path (ladder, frozen) sends the sequence to the shared backbone runner,
 * where it is answered from the activation cache or micro-batched with concurrent requests into
 * one engine call, computes the adapted user state from plain arrays, and ranks the catalogue on
 * ONNX Runtime (or, without it, in JavaScript). The user state lives in the scorer's scratch
 * buffer: the ranker copies it before its call, and the JavaScript path uses it synchronously.
 */
export async function recommendFromHistory(
  model: LiveModel,
  history: readonly string[],
  k: number,
  exclude: Iterable<string>,
  accept?: (itemId: string) => boolean,
): Promise<ScoredItem[]> {
  const { fast } = model;
  const { catalogue } = model.adaptation;
  if (fast === undefined) return topItems(catalogue, await scoreHistory(model, history), k, exclude, accept);
  const out = await fast.runner.run(encodeHistory(model, history));
  const h = fast.scorer.userState(out, 0);
  if (fast.ranked === undefined) return topItems(catalogue, fast.scorer.scores(h), k, exclude, accept);
  const skip = skipped(catalogue, exclude);
  // Ask for enough that k remain after the skipped slots are dropped. How many slots `accept`
  // refuses is only known by looking, so a short answer asks again for four times as many, up to
  // the whole catalogue: one call unless a filter refuses much of the head of the ranking.
  let want = k + skip.size;
  // A second call would run after an await, when a concurrent request may have reused the scratch
  // buffer: a filtered request keeps its own copy of the user state.
  const state = accept === undefined ? h : h.slice();
  for (;;) {
    const ranked = await fast.ranked.ranker.top(state, fast.ranked.table, want);
    const items: ScoredItem[] = [];
    for (let i = 0; i < ranked.slots.length && items.length < k; i++) {
      const slot = ranked.slots[i] ?? PAD_ID;
      if (!skip.has(slot) && accepted(catalogue, slot, accept)) push(items, catalogue, slot, ranked.scores[i]);
    }
    if (items.length >= k || accept === undefined || ranked.slots.length < want || want >= catalogue.numSlots) return items;
    want = Math.min(catalogue.numSlots, want * 4);
  }
}

/** The k best-scored items (partial selection, best first), skipping PAD, UNK, `exclude` and what `accept` refuses. */
export function topItems(catalogue: ItemCatalogue, scores: Float32Array, k: number, exclude: Iterable<string>, accept?: (itemId: string) => boolean): ScoredItem[] {
  const skip = skipped(catalogue, exclude);
  const filter = accept === undefined ? skip : { has: (slot: number) => skip.has(slot) || !accepted(catalogue, slot, accept) };
  const items: ScoredItem[] = [];
  for (const slot of topK(scores, k, filter)) push(items, catalogue, slot, scores[slot]);
  return items;
}

function accepted(catalogue: ItemCatalogue, slot: number, accept: ((itemId: string) => boolean) | undefined): boolean {
  if (accept === undefined) return true;
  const itemId = catalogue.itemIdOf(slot);
  return itemId !== undefined && accept(itemId);
}

function skipped(catalogue: ItemCatalogue, exclude: Iterable<string>): Set<number> {
  const skip = new Set<number>([PAD_ID, UNK_ID]);
  for (const id of exclude) {
    const slot = catalogue.slotOf(id);
    if (slot !== undefined) skip.add(slot);
  }
  return skip;
}

function push(items: ScoredItem[], catalogue: ItemCatalogue, slot: number, score: number | undefined): void {
  const itemId = catalogue.itemIdOf(slot);
  if (itemId !== undefined && score !== undefined && Number.isFinite(score)) items.push({ itemId, score });
}
