import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdaptationMethod } from './adaptation/adaptation-method.js';
import { createAdaptation } from './adaptation/create-adaptation.js';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import { TfjsBackboneRunner } from './backbone-runner.js';
import { ItemCatalogue } from './item-catalogue.js';
import { PlainScorer } from './plain-scoring.js';
import { topK } from './ranking-metrics.js';
import { encodeSequences } from './sequence-batch.js';

const config = { numItems: 40, dim: 16, blocks: 3, heads: 2, maxLen: 8, ffnDim: 32, layerNormEpsilon: 1e-5 };
const itemIds = Array.from({ length: config.numItems }, (_, i) => `i${i}`);
let backbone: Backbone;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  backbone = Backbone.random(config, createRng(5));
});

afterAll(() => backbone.dispose());

/** A method whose every parameter (side table and bias included) is random, far from identity. */
async function randomised(name: 'ladder' | 'frozen' | 'lora', seed: number): Promise<AdaptationMethod> {
  const catalogue = new ItemCatalogue(itemIds, 4);
  catalogue.ensureSlot('new-a');
  catalogue.ensureSlot('new-b');
  const method = createAdaptation(name, backbone, catalogue, { ladder: { runner: new TfjsBackboneRunner(backbone) } });
  const snapshot = await method.serialize();
  const rng = createRng(seed);
  for (const t of snapshot.tensors) t.values = t.values.map(() => rng.normal() * 0.5);
  method.load(snapshot);
  return method;
}

const histories = [[2, 3, 4], [5], [6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [42, 3]];

describe('PlainScorer', () => {
  it.each(['ladder', 'frozen'] as const)('scores %s like its TF.js path (within 1e-4) and picks the same top 10', async (name) => {
    const method = await randomised(name, 17);
    const scorer = PlainScorer.of(method);
    expect(scorer).toBeDefined();
    const batch = encodeSequences(histories, method.catalogue, config.maxLen);
    const input = await method.prepare(batch);
    const expected = tf.tidy(() => method.scores(input)).arraySync();
    input.dispose();
    const out = await new TfjsBackboneRunner(backbone).run(batch);
    const skip = new Set([0, 1]);
    histories.forEach((_, row) => {
      const want = Float32Array.from(expected[row] ?? []);
      const scores = (scorer as PlainScorer).scores((scorer as PlainScorer).userState(out, row));
      expect(scores).toHaveLength(method.catalogue.numSlots);
      for (let slot = 2; slot < want.length; slot++) expect(Math.abs((scores[slot] ?? 0) - (want[slot] ?? 0))).toBeLessThan(1e-4);
      expect(scores[0]).toBe(-Infinity);
      expect(scores[1]).toBe(-Infinity);
      expect(Array.from(topK(scores, 10, skip))).toEqual(Array.from(topK(want, 10, skip)));
    });
    method.dispose();
  });

  it('declines methods that change the backbone computation', async () => {
    const method = await randomised('lora', 3);
    expect(PlainScorer.of(method)).toBeUndefined();
    method.dispose();
  });
});
