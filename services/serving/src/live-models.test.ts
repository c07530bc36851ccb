import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frozenModel } from './initial-model.js';
import { LiveModel } from './live-model.js';
import { LiveModels } from './live-models.js';
import { createAdaptation, ItemCatalogue } from './model-api.js';
import { scoreHistory } from './recommender.js';
import { tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

let backbone: TinyBackbone;

beforeAll(async () => {
  backbone = await tinyBackbone();
});

afterAll(() => backbone?.checkpoint.backbone.dispose());

function model(version: number, variant = 'ladder'): LiveModel {
  const { backbone: b, itemIds, backboneId } = backbone.checkpoint;
  const adaptation = createAdaptation('ladder', b, new ItemCatalogue(itemIds, 2), { seed: version });
  return new LiveModel(
    { variant, method: 'ladder', version, backboneId, offsets: {}, examplesTrained: 0, figures: {}, newestEventTs: null, publishedAt: null, appliedAt: Date.now() },
    adaptation,
  );
}

describe('hot-swap registry', () => {
  it('a lease keeps the version it started with across swaps; retired versions are freed when their last lease ends', async () => {
    const before = tf.memory().numTensors;
    const models = new LiveModels();
    const v1 = model(1);
    models.swap(v1);
    const lease = models.lease('ladder');
    const v2 = model(2);
    const v3 = model(3);
    expect(models.swap(v2)).toMatchObject({ version: 2, previousVersion: 1, retiredVersion: undefined });
    expect(models.swap(v3)).toMatchObject({ version: 3, previousVersion: 2, retiredVersion: 1 });
    // v1 is retired but leased: still usable, not disposed.
    expect(v1.isRetired).toBe(true);
    expect(v1.isDisposed).toBe(false);
    const scores = await scoreHistory(lease.model, ['item-1']);
    expect(scores.length).toBeGreaterThan(0);
    expect(lease.model).toBe(v1);
    lease.release();
    lease.release(); // idempotent
    expect(v1.isDisposed).toBe(true);
    expect(v2.isDisposed).toBe(false);
    expect(models.current('ladder')).toBe(v3);
    expect(models.previous('ladder')).toBe(v2);
    models.close();
    expect(v2.isDisposed && v3.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a version-0 placeholder is replaced, not kept for rollback', () => {
    const models = new LiveModels();
    const placeholder = model(0);
    models.swap(placeholder);
    expect(models.swap(model(1))).toMatchObject({ version: 1, previousVersion: undefined, retiredVersion: 0 });
    expect(placeholder.isDisposed).toBe(true);
    expect(() => models.rollback('ladder')).toThrow(/no previous version/);
    models.close();
  });

  it('refuses versions that are not newer, also after a rollback', () => {
    const models = new LiveModels();
    models.swap(model(4));
    models.swap(model(5));
    const stale = model(5);
    expect(() => models.swap(stale)).toThrow(/not newer/);
    expect(stale.isDisposed).toBe(true);
    expect(models.rollback('ladder')).toMatchObject({ version: 4, retiredVersion: 5 });
    expect(models.newestVersion('ladder')).toBe(5);
    expect(() => models.rollback('ladder')).toThrow(/no previous version/);
    expect(() => models.lease('nope')).toThrow(/not live/);
    models.close();
  });

  it('a model released more often than leased, or used after disposal, fails loudly', () => {
    const { backbone: b, itemIds, backboneId } = backbone.checkpoint;
    const frozen = frozenModel(b, itemIds, backboneId);
    expect(frozen.meta).toMatchObject({ variant: 'frozen', version: 0, publishedAt: null });
    expect(() => frozen.release()).toThrow(/released more often/);
    frozen.retire();
    expect(() => frozen.acquire()).toThrow(/after dispose/);
  });
});
