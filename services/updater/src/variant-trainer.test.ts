import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@reco/data';
import { Backbone, initBackend, loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '@reco/model';
import type { RecoEvent } from '@reco/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingSettings } from './config.js';
import { VariantTrainer } from './variant-trainer.js';

let checkpoint: LoadedCheckpoint;
let dir: string;
const itemIds = Array.from({ length: 20 }, (_, i) => `i${i}`);
// A random backbone on random clicks ranks no better one step than the next: the ranking gate
// and the shadow trial (their own tests are in @reco/model) would refuse at random, and these tests count offsets.
const settings: TrainingSettings = { batchSize: 8, freshPerStep: 4, learningRate: 0.01, publishIntervalMs: 1, publishMaxSteps: 100, sideCapacity: 4, seed: 1, gateMaxLossIncrease: 0.5, gateMaxRankingDrop: 1, gateShadowClicks: 0, anchorPull: 0 };
const click = (userId: string, itemId: string, ts: number): RecoEvent => ({ userId, itemId, type: 'click', ts });

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'reco-variant-trainer-'));
  const backbone = Backbone.random({ numItems: itemIds.length, dim: 8, blocks: 1, heads: 2, maxLen: 6, ffnDim: 16, layerNormEpsilon: 1e-5 }, createRng(2));
  await saveCheckpoint(dir, backbone, itemIds);
  backbone.dispose();
  checkpoint = await loadCheckpoint(dir);
});

afterAll(async () => {
  checkpoint?.backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('VariantTrainer positions', () => {
  it('after a resume, events below the snapshot offsets rebuild histories once but are not trained again', async () => {
    const spec = { name: 'ladder', method: 'ladder' as const };
    const first = VariantTrainer.create({ spec, checkpoint, settings });
    expect(first.feed(click('u1', 'i1', 1), 0, '0')).toBe(true);
    expect(first.feed(click('u1', 'i2', 2), 0, '1')).toBe(true);
    expect(first.feed(click('u1', 'i2', 2), 0, '1')).toBe(false); // a re-fetch of the same position
    await first.trainUntilDrained(async () => undefined);
    const published = await first.maybePublish(Date.now(), true);
    first.dispose();
    if (published === null || 'rejected' in published) throw new Error('expected a snapshot');
    expect(published.snapshot.meta).toMatchObject({ examplesTrained: 2, offsets: { '0': '2' } });

    const resumed = VariantTrainer.create({ spec, checkpoint, settings, resumeFrom: published.snapshot });
    // The look-back window: already trained, so not fed again, but u1's history comes back.
    expect(resumed.feed(click('u1', 'i1', 1), 0, '0')).toBe(false);
    expect(resumed.feed(click('u1', 'i2', 2), 0, '1')).toBe(false);
    expect(resumed.feed(click('u1', 'i1', 1), 0, '0')).toBe(false); // re-fetched after a rebalance: not added twice
    expect(resumed.trainer.userHistory('u1')).toHaveLength(2);
    expect(resumed.feed(click('u1', 'i3', 3), 0, '2')).toBe(true);
    // With its history back, u1's new click is an example to learn from, not a cold start.
    expect(resumed.trainer.backlog).toBe(1);
    expect(resumed.examplesTrained).toBe(3);
    resumed.dispose();
  });

  it('with a shadow trial, a snapshot carries the offsets its parameters were staged at, not those reached during the trial', async () => {
    const spec = { name: 'ladder', method: 'ladder' as const };
    const trained = VariantTrainer.create({ spec, checkpoint, settings: { ...settings, freshPerStep: 1, batchSize: 2, gateShadowClicks: 2 } });
    let offset = 0;
    let published: Awaited<ReturnType<VariantTrainer['maybePublish']>> = null;
    let stagedAt = -1;
    for (let round = 0; round < 20 && (published === null || 'rejected' in published); round++) {
      for (let i = 0; i < 3; i++, offset++) trained.feed(click('u1', `i${offset % 20}`, offset), 0, String(offset));
      await trained.trainUntilDrained(async () => undefined);
      await new Promise((r) => setTimeout(r, 2)); // the 1 ms publish interval
      published = await trained.maybePublish(Date.now());
      if (round === 0) expect(published).toBeNull(); // staged, not published
      // Each call judges the candidate staged by the previous one, then stages what was trained since.
      if (published !== null && !('rejected' in published)) expect(published.snapshot.meta).toMatchObject({ offsets: { '0': String(stagedAt) }, examplesTrained: stagedAt });
      if (published !== null && 'rejected' in published) expect(published.rejected).toBe('shadow-regressed');
      expect(trained.trainer.onTrial).toBe(true);
      stagedAt = offset;
    }
    expect(published !== null && !('rejected' in published)).toBe(true);
    trained.dispose();
  });
});
