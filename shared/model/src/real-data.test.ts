import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Interaction, loadDataset, timeSplit } from '@reco/data';
import { createAdaptation } from './adaptation/create-adaptation.js';
import { initBackend } from './backend.js';
import { ItemCatalogue } from './item-catalogue.js';
import { OnlineTrainer } from './online-trainer.js';
import { type PretrainResult, pretrainBackbone } from './pretrain.js';
import { StreamClock } from './stream-replay.js';

/**
 * A small real-data check: a slice of MovieLens latest-small (the copy beside the repo; its
 * licence keeps it out of the repo), a small backbone and a few epochs. It asserts what must
 * hold on any real log, not the figures of the full runs in docs/: the backbone beats
 * popularity under the serving protocol, and the validation gate refuses a candidate that a
 * huge learning rate has wrecked, whatever its loss says.
 */
const ratings = fileURLToPath(new URL('../../../../shared/data/movielens-latest-small/ratings.csv', import.meta.url));
const present = existsSync(ratings);
if (!present) console.warn(`skipping the real-data checks: ${dirname(ratings)} is absent (MovieLens latest-small is not shipped with the repo)`);

let slice: Interaction[] = [];
let result: PretrainResult | undefined;

describe.skipIf(!present)('on a slice of MovieLens latest-small', () => {
  beforeAll(async () => {
    await initBackend({ log: () => undefined });
    const { interactions } = await loadDataset(ratings);
    // The log's first 70 % in time (the CLI's pretraining part), the default backbone, a few epochs.
    slice = interactions;
    const { before } = timeSplit(slice, { fraction: 0.7 });
    result = await pretrainBackbone({ interactions: before, epochs: 8, patience: 8, seed: 3 });
  }, 480_000);

  afterAll(() => result?.backbone.dispose());

  it('the pretrained backbone beats popularity on the test targets (full ranking, seen items excluded)', () => {
    if (result === undefined) throw new Error('pretraining did not run');
    const popularity = result.baselines.find((b) => b.name === 'popularity');
    if (popularity === undefined) throw new Error('no popularity baseline in the report');
    console.info(`real slice: backbone test HR@10 ${result.test.full.hr10.toFixed(3)} vs popularity ${popularity.test.full.hr10.toFixed(3)} (${result.test.full.count} users, kept epoch ${result.bestEpoch})`);
    expect(result.test.label).toBe('full ranking over the catalogue, seen items excluded');
    expect(result.test.full.hr10).toBeGreaterThan(popularity.test.full.hr10);
  });

  it('the gate refuses a candidate trained with a huge learning rate', async () => {
    if (result === undefined) throw new Error('pretraining did not run');
    const { before, after } = timeSplit(slice, { fraction: 0.7 });
    const method = createAdaptation('ladder', result.backbone, new ItemCatalogue(result.itemIds, 256), { seed: 1 });
    const clock = new StreamClock();
    const trainer = new OnlineTrainer({
      method,
      backboneId: 'test',
      learningRate: 5,
      sideLearningRate: 50,
      holdoutEvery: 5,
      now: clock.now,
      publishPolicy: { intervalMs: Number.MAX_SAFE_INTEGER, maxSteps: 1_000_000 },
      gate: { maxLossIncrease: 0.5, maxRankingDrop: 0.01 },
    });
    try {
      trainer.seedHistories(before);
      for (const event of after.slice(0, 3000)) {
        clock.set(event.ts);
        trainer.observe(event);
        if (trainer.backlog >= 32) await trainer.trainStep();
      }
      const outcome = await trainer.maybePublish({ force: true });
      expect(outcome.published).toBe(false);
      if (outcome.published || outcome.decision === undefined || outcome.decision.accept) throw new Error('the gate let the wrecked candidate through');
      console.info(`gate refused the huge-learning-rate candidate: ${outcome.decision.code}: ${outcome.decision.reason}`);
      expect(['ranking-regressed', 'loss-regressed', 'non-finite-loss', 'non-finite-weights']).toContain(outcome.decision.code);
    } finally {
      trainer.dispose();
      method.dispose();
    }
  }, 120_000);
});
