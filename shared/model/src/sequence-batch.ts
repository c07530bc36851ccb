import { PAD_ID } from './backbone-config.js';
import type { ItemCatalogue } from './item-catalogue.js';

/**
 * Backbone input for B users: their most recent `maxLen` items as backbone ids, left-padded with
 * PAD so the newest item is always in the last column (where the user state is read). Plain
 * typed arrays, so any engine (TF.js, ONNX Runtime) can consume the same batch.
 */
export interface SequenceBatch {
  /** Row-major [batchSize, maxLen], int32 backbone ids. */
  ids: Int32Array;
  batchSize: number;
  maxLen: number;
}

/** Encodes histories of catalogue slots; side slots become UNK because the backbone cannot know them. */
export function encodeSequences(histories: readonly (readonly number[])[], catalogue: ItemCatalogue, maxLen: number): SequenceBatch {
  const ids = new Int32Array(histories.length * maxLen).fill(PAD_ID);
  histories.forEach((history, row) => {
    const take = Math.min(history.length, maxLen);
    const start = history.length - take;
    const base = row * maxLen + (maxLen - take);
    for (let i = 0; i < take; i++) ids[base + i] = catalogue.inputId(history[start + i] ?? PAD_ID);
  });
  return { ids, batchSize: histories.length, maxLen };
}
