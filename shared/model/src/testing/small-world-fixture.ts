import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SyntheticWorld, createSyntheticWorld, smallWorldOptions } from '@reco/data';
import { initBackend } from '../backend.js';
import type { BackboneConfig } from '../backbone-config.js';
import { type LoadedCheckpoint, loadCheckpoint, saveCheckpoint } from '../checkpoint.js';
import { type PretrainResult, pretrainBackbone } from '../pretrain.js';

/**
 * A small pretrained backbone on the small synthetic world, shared by the model tests. It is
 * pretrained once (seeded) and cached as a checkpoint in the OS temp folder, keyed by
 * everything that shapes it, so the suite pays for pretraining once per machine, not per file.
 */
export const SMALL_SHAPE: Omit<BackboneConfig, 'numItems'> = {
  dim: 32,
  blocks: 2,
  heads: 2,
  maxLen: 30,
  ffnDim: 64,
  layerNormEpsilon: 1e-5,
};
export const SMALL_PRETRAIN = { epochs: 25, batchSize: 32, learningRate: 5e-3, seed: 11 };
const FIXTURE_VERSION = 1;

export interface SmallFixture {
  world: SyntheticWorld;
  checkpoint: LoadedCheckpoint;
  dir: string;
  /** Present only when this call pretrained (not when it loaded the cache). */
  pretrain?: PretrainResult;
}

export async function smallWorldFixture(options: { fresh?: boolean } = {}): Promise<SmallFixture> {
  await initBackend({ log: () => undefined });
  const world = createSyntheticWorld(smallWorldOptions());
  const key = `v${FIXTURE_VERSION}-d${SMALL_SHAPE.dim}-b${SMALL_SHAPE.blocks}-l${SMALL_SHAPE.maxLen}-e${SMALL_PRETRAIN.epochs}-s${SMALL_PRETRAIN.seed}`;
  const dir = join(tmpdir(), 'reco-model-test-backbones', key);
  const cached = await access(join(dir, 'manifest.json')).then(
    () => true,
    () => false,
  );
  if (cached && options.fresh !== true) return { world, checkpoint: await loadCheckpoint(dir), dir };
  const pretrain = await pretrainBackbone({ interactions: world.pretrainLog, shape: SMALL_SHAPE, ...SMALL_PRETRAIN });
  // A fresh run writes to its own folder when a cache exists: other test files running in
  // parallel may be reading the cached one at this moment.
  const out = cached ? await mkdtemp(join(tmpdir(), 'reco-model-test-fresh-')) : dir;
  await saveCheckpoint(out, pretrain.backbone, pretrain.itemIds, { fixture: key });
  pretrain.backbone.dispose();
  return { world, checkpoint: await loadCheckpoint(out), dir: out, pretrain };
}
