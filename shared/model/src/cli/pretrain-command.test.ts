import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Interaction } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { loadCheckpoint } from '../checkpoint.js';
import { defaultSchedule, pretrainToCheckpoint } from './pretrain-command.js';
import { DEFAULT_PRETRAIN } from '../pretrain.js';

let dir: string;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'reco-pretrain-command-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pretrainToCheckpoint', () => {
  it("writes each item's training-part click count and the data set's titles into the checkpoint", async () => {
    // Every user clicks `hot`, then an item of their own, then the validation and test targets:
    // leave-one-out trains on the first two only, so `hot` counts 8, each own item 1, `v` and `t` 0.
    const log: Interaction[] = [];
    for (let u = 0; u < 8; u++) {
      for (const [i, itemId] of ['hot', `own-${u}`, 'v', 't'].entries()) log.push({ userId: `u${u}`, itemId, type: 'click', ts: 1000 * u + i });
    }
    const items = new Map([['hot', { title: 'Hot (2001)', categories: ['Comedy'] }]]);
    const split = { name: 'tiny', pretrain: log, stream: [], drifts: [], items };
    const out = join(dir, 'backbone');
    const { result } = await pretrainToCheckpoint(split, out, { epochs: 1, batchSize: 8, negatives: 0, shape: { dim: 8, blocks: 1, heads: 1, maxLen: 4, ffnDim: 8 } });
    result.backbone.dispose();
    // A real log's schedule fills what was not given; what was given wins.
    expect(result.settings).toMatchObject({ epochs: 1, negatives: 0, learningRate: defaultSchedule(split).learningRate });
    const loaded = await loadCheckpoint(out);
    try {
      const expected = new Map<string, number>([['hot', 8], ['v', 0], ['t', 0]]);
      for (let u = 0; u < 8; u++) expected.set(`own-${u}`, 1);
      expect(new Map(loaded.itemCounts)).toEqual(expected);
      expect(loaded.itemMetadata.get('hot')).toEqual({ title: 'Hot (2001)', categories: ['Comedy'] });
    } finally {
      loaded.backbone.dispose();
    }
  }, 120_000);
});

describe('defaultSchedule', () => {
  it('keeps the synthetic world on the default settings and gives a real log its longer, faster-stepping schedule', () => {
    const { epochs, patience, negatives, learningRate } = DEFAULT_PRETRAIN;
    expect(defaultSchedule({ name: 'synthetic' })).toEqual({ epochs, patience, negatives, learningRate });
    expect(defaultSchedule({ name: 'ratings.csv' })).toEqual({ epochs: 24, patience: 8, negatives: 256, learningRate: 6e-3 });
  });
});
