import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ItemCatalogue } from '../item-catalogue.js';
import { encodeSequences } from '../sequence-batch.js';
import { userHistories } from '../testing/histories.js';
import { type SmallFixture, smallWorldFixture } from '../testing/small-world-fixture.js';
import { METHOD_NAMES } from './adaptation-method.js';
import { createAdaptation } from './create-adaptation.js';

let fixture: SmallFixture;

beforeAll(async () => {
  fixture = await smallWorldFixture();
}, 180_000);

afterAll(() => fixture.checkpoint.backbone.dispose());

describe('every method starts as the identity', () => {
  it.each(METHOD_NAMES)('%s scores equal the frozen backbone on real sequences (max |diff| <= 1e-5)', async (name) => {
    const { backbone, itemIds } = fixture.checkpoint;
    const catalogue = new ItemCatalogue(itemIds, 16);
    // Real sequences that run into the stream, so side (new-item) slots are both read and scored.
    const histories = [...userHistories([...fixture.world.pretrainLog, ...fixture.world.stream], catalogue).values()].slice(0, 24);
    const batch = encodeSequences(histories, catalogue, backbone.config.maxLen);
    expect(catalogue.sideCount).toBeGreaterThan(0);
    const frozen = createAdaptation('frozen', backbone, catalogue);
    const method = createAdaptation(name, backbone, catalogue, { seed: 5 });
    const a = await frozen.prepare(batch);
    const b = await method.prepare(batch);
    const [reference, scores] = tf.tidy(() => [frozen.scores(a).dataSync(), method.scores(b).dataSync()]);
    a.dispose();
    b.dispose();
    let maxDiff = 0;
    const slots = catalogue.numSlots;
    for (let i = 0; i < (reference?.length ?? 0); i++) {
      if (i % slots < 2) continue; // PAD and UNK are -Infinity in both
      maxDiff = Math.max(maxDiff, Math.abs((reference?.[i] ?? 0) - (scores?.[i] ?? 0)));
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    if (name !== 'frozen') expect(method.parameterCount().trainable).toBeGreaterThan(0);
    frozen.dispose();
    method.dispose();
  });
});
