import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frozenModel } from './initial-model.js';
import { LiveModel } from './live-model.js';
import { LiveModels } from './live-models.js';
import { createAdaptation, ItemCatalogue, type RollbackNote } from './model-api.js';
import { scoreHistory } from './recommender.js';
import { tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

let backbone: TinyBackbone;

beforeAll(async () => {
  backbone = await tinyBackbone();
});

afterAll(() => backbone?.checkpoint.backbone.dispose());

function model(version: number, variant = 'ladder', rollback?: RollbackNote): LiveModel {
  const { backbone: b, itemIds, backboneId } = backbone.checkpoint;
  const adaptation = createAdaptation('ladder', b, new ItemCatalogue(itemIds, 2), { seed: version });
  const meta = { variant, method: 'ladder', version, backboneId, offsets: {}, examplesTrained: 0, figures: {}, newestEventTs: null, publishedAt: null, appliedAt: Date.now() };
  // Only a rollback record's source matters to the registry (its meta.rollback); the tensors do not.
  const source = rollback === undefined ? undefined : { meta: { ...meta, publishedAt: 0, config: {}, rollback }, tensors: [] };
  return new LiveModel(meta, adaptation, source === undefined ? {} : { source });
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
    expect(models.previous('ladder')).toBeUndefined();
    models.close();
  });

  it('refuses versions that are not newer; a rollback record withdraws the version it replaces instead of keeping it', () => {
    const models = new LiveModels();
    models.swap(model(4));
    const v5 = model(5);
    models.swap(v5);
    const stale = model(5);
    expect(() => models.swap(stale)).toThrow(/not newer/);
    expect(stale.isDisposed).toBe(true);
    // v6 carries v4's parameters again: v5 is retired, and nothing is left to roll back to.
    expect(models.swap(model(6, 'ladder', { from: 5, restores: 4, at: 1 }))).toMatchObject({ version: 6, previousVersion: undefined, retiredVersion: 5 });
    expect(v5.isDisposed).toBe(true);
    expect(models.previous('ladder')).toBeUndefined();
    expect(models.newestVersion('ladder')).toBe(6);
    // The next snapshot keeps the rollback record as its previous version, as any other.
    expect(models.swap(model(7))).toMatchObject({ version: 7, previousVersion: 6 });
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
