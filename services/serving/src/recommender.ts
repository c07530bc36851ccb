import * as tf from '@tensorflow/tfjs-core';
import type { LiveModel } from './live-model.js';
import { addMemory, encodeSequences, NO_SCORES, PAD_ID, topK, UNK_ID, type ItemCatalogue, type SequenceBatch, type SparseScores } from './model-api.js';

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
 * refuses (unavailable, outside the requested category), or PAD/UNK. `memory` is the history's
 * co-visit memory in this model's slots (the replica's counts, see ItemCoVisits), added with the
 * model's weight: s = h' · E'_i + b_i + w · m_i, as the trainer ranks.
 *
 * A model with a fast path (ladder, frozen) sends the sequence to the shared backbone runner,
 * where it is answered from the activation cache or micro-batched with concurrent requests into
 * one engine call, computes the adapted user state from plain arrays, and ranks the catalogue on
 * ONNX Runtime (or, without it, in JavaScript). The user state lives in the scorer's scratch
 * buffer: the ranker copies it before its call, and the JavaScript path uses it synchronously.
 *
 * With a positive memory weight the ranker's top list is merged with the memory's slots, rescored
 * exactly: an item outside both scores no more than the ranker's last, so the merged top k is the
 * true one whenever k of the ranker's items survive the filters (otherwise it asks for more, as
 * for a filter). A negative weight could push a ranker item below an unlisted one, so that rare
 * case ranks the whole catalogue in JavaScript.
 */
export async function recommendFromHistory(
  model: LiveModel,
  history: readonly string[],
  k: number,
  exclude: Iterable<string>,
  accept?: (itemId: string) => boolean,
  memory: SparseScores = NO_SCORES,
): Promise<ScoredItem[]> {
  const { fast, memoryWeight } = model;
  const { catalogue } = model.adaptation;
  const withMemory = memoryWeight !== 0 && memory.slots.length > 0;
  if (fast === undefined) {
    const scores = await scoreHistory(model, history);
    if (withMemory) addMemory(scores, memory, memoryWeight);
    return topItems(catalogue, scores, k, exclude, accept);
  }
  const out = await fast.runner.run(encodeHistory(model, history));
  const h = fast.scorer.userState(out, 0);
  if (fast.ranked === undefined || (withMemory && memoryWeight < 0)) {
    const scores = fast.scorer.scores(h);
    if (withMemory) addMemory(scores, memory, memoryWeight);
    return topItems(catalogue, scores, k, exclude, accept);
  }
  const skip = skipped(catalogue, exclude);
  // Ask for enough that k remain after the skipped slots are dropped. How many slots `accept`
  // refuses is only known by looking, so a short answer asks again for four times as many, up to
  // the whole catalogue: one call unless a filter refuses much of the head of the ranking.
  let want = k + skip.size + (withMemory ? memory.slots.length : 0);
  // A second call (or the memory's rescoring) runs after an await, when a concurrent request may
  // have reused the scratch buffer: such a request keeps its own copy of the user state.
  const state = accept === undefined && !withMemory ? h : h.slice();
  for (;;) {
    const ranked = await fast.ranked.ranker.top(state, fast.ranked.table, want);
    const slots = Array.from(ranked.slots);
    const scores = Array.from(ranked.scores);
    if (withMemory) mergeMemory(slots, scores, memory, memoryWeight, (slot) => fast.scorer.slotScore(state, slot));
    const items: ScoredItem[] = [];
    let fromRanker = 0;
    for (let i = 0; i < slots.length && items.length < k; i++) {
      const slot = slots[i] ?? PAD_ID;
      if (!skip.has(slot) && accepted(catalogue, slot, accept)) push(items, catalogue, slot, scores[i]);
    }
    for (const slot of ranked.slots) if (!skip.has(slot) && accepted(catalogue, slot, accept)) fromRanker++;
    const complete = items.length >= k && (!withMemory || fromRanker >= k);
    if (complete || ranked.slots.length < want || want >= catalogue.numSlots) return items;
    want = Math.min(catalogue.numSlots, want * 4);
  }
}

/**
 * Adds the memory to a ranker's top list in place: listed slots get w · m on top of their score,
 * the memory's other slots join with their exact score, and the list is re-sorted, best first.
 */
function mergeMemory(slots: number[], scores: number[], memory: SparseScores, weight: number, exactScore: (slot: number) => number): void {
  const at = new Map<number, number>();
  slots.forEach((slot, i) => at.set(slot, i));
  memory.slots.forEach((slot, n) => {
    const boost = weight * (memory.values[n] as number);
    const i = at.get(slot);
    if (i !== undefined) scores[i] = (scores[i] as number) + boost;
    else {
      at.set(slot, slots.length);
      slots.push(slot);
      scores.push(exactScore(slot) + boost);
    }
  });
  const order = slots.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const sortedSlots = order.map((i) => slots[i] as number);
  const sortedScores = order.map((i) => scores[i] as number);
  slots.splice(0, slots.length, ...sortedSlots);
  scores.splice(0, scores.length, ...sortedScores);
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
