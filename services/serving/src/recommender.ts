import * as tf from '@tensorflow/tfjs-core';
import type { LiveModel } from './live-model.js';
import { encodeSequences, PAD_ID, topK, UNK_ID } from './model-api.js';

export interface ScoredItem {
  itemId: string;
  score: number;
}

/**
 * Scores of every catalogue slot for one user history (item ids, oldest first) under one model.
 * Items the model's catalogue does not know are read as UNK, like the backbone was trained to.
 * The catalogue is only read (`slotOf`), never extended: the model is shared and immutable.
 */
export async function scoreHistory(model: LiveModel, history: readonly string[]): Promise<Float32Array> {
  const { adaptation } = model;
  const { catalogue } = adaptation;
  const slots = history.map((id) => catalogue.slotOf(id) ?? UNK_ID);
  const batch = encodeSequences([slots], catalogue, adaptation.backbone.config.maxLen);
  const input = await adaptation.prepare(batch);
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

/** Top-k items of a history under a model, never recommending `exclude` (ids) or PAD/UNK. */
export async function recommendFromHistory(model: LiveModel, history: readonly string[], k: number, exclude: Iterable<string>): Promise<ScoredItem[]> {
  const scores = await scoreHistory(model, history);
  return topItems(model, scores, k, exclude);
}

export function topItems(model: LiveModel, scores: Float32Array, k: number, exclude: Iterable<string>): ScoredItem[] {
  const { catalogue } = model.adaptation;
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
