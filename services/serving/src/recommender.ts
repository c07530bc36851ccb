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
 * Top-k items of a history under a model, never recommending `exclude` (ids) or PAD/UNK.
 *
 * A model with a fast path (ladder, frozen) sends the sequence to the shared backbone runner,
 * where it is answered from the activation cache or micro-batched with concurrent requests into
 * one engine call, and scores from plain arrays; everything after the runner's answer is
 * synchronous, so the scorer's scratch buffers are never shared by two requests.
 */
export async function recommendFromHistory(model: LiveModel, history: readonly string[], k: number, exclude: Iterable<string>): Promise<ScoredItem[]> {
  const { fast } = model;
  if (fast === undefined) {
    const scores = await scoreHistory(model, history);
    return topItems(model.adaptation.catalogue, scores, k, exclude);
  }
  const out = await fast.runner.run(encodeHistory(model, history));
  return topItems(model.adaptation.catalogue, fast.scorer.scores(fast.scorer.userState(out, 0)), k, exclude);
}

/** The k best-scored items (partial selection, best first), skipping PAD, UNK and `exclude`. */
export function topItems(catalogue: ItemCatalogue, scores: Float32Array, k: number, exclude: Iterable<string>): ScoredItem[] {
  const skip = new Set<number>([PAD_ID, UNK_ID]);
  for (const id of exclude) {
    const slot = catalogue.slotOf(id);
    if (slot !== undefined) skip.add(slot);
  }
  const out: ScoredItem[] = [];
  for (const slot of topK(scores, k, skip)) {
    const itemId = catalogue.itemIdOf(slot);
    const score = scores[slot];
    if (itemId !== undefined && score !== undefined && Number.isFinite(score)) out.push({ itemId, score });
  }
  return out;
}
