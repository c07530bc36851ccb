import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@reco/data';
import { Backbone, buildSnapshot, createAdaptation, initBackend, ItemCatalogue, loadCheckpoint, saveCheckpoint, type AdapterSnapshot, type LoadedCheckpoint, type MethodName } from '../model-api.js';

/**
 * A small random-initialised backbone saved as a real checkpoint: serving never trains, so a
 * pretrained one would only cost time. Small enough that a forward takes a millisecond or two.
 */
export const TINY_SHAPE = { numItems: 60, dim: 16, blocks: 2, heads: 2, maxLen: 12, ffnDim: 32, layerNormEpsilon: 1e-5 };

export interface TinyBackbone {
  dir: string;
  checkpoint: LoadedCheckpoint;
}

export async function tinyBackbone(seed = 3): Promise<TinyBackbone> {
  await initBackend({ log: () => undefined });
  const itemIds = Array.from({ length: TINY_SHAPE.numItems }, (_, i) => `item-${i}`);
  const random = Backbone.random(TINY_SHAPE, createRng(seed));
  const dir = await mkdtemp(join(tmpdir(), 'reco-serving-backbone-'));
  await saveCheckpoint(dir, random, itemIds, { purpose: 'serving tests' });
  random.dispose();
  return { dir, checkpoint: await loadCheckpoint(dir) };
}

export interface SnapshotSpec {
  variant?: string;
  method?: MethodName;
  version: number;
  seed?: number;
  /** Side table slots (default 4). */
  sideCapacity?: number;
  backboneId?: string;
  sideItems?: string[];
  newestEventTs?: number | null;
  /** Changes the tensors after they are drawn (e.g. to plant a NaN). */
  mutate?: (snapshot: AdapterSnapshot) => void;
}

/**
 * A snapshot as the updater would publish it, with every parameter drawn at random (scale 0.3)
 * so that its scores differ clearly from the backbone's and from other seeds'.
 */
export async function makeSnapshot(backbone: TinyBackbone, spec: SnapshotSpec): Promise<AdapterSnapshot> {
  const { checkpoint } = backbone;
  const catalogue = new ItemCatalogue(checkpoint.itemIds, spec.sideCapacity ?? 4);
  for (const id of spec.sideItems ?? []) catalogue.ensureSlot(id);
  const method = createAdaptation(spec.method ?? 'ladder', checkpoint.backbone, catalogue, { seed: spec.seed ?? spec.version });
  const serialized = await method.serialize();
  method.dispose();
  const rng = createRng(1000 + (spec.seed ?? spec.version));
  for (const t of serialized.tensors) for (let i = 0; i < t.values.length; i++) t.values[i] = rng.normal() * 0.3;
  const snapshot = buildSnapshot(
    {
      variant: spec.variant ?? 'ladder',
      version: spec.version,
      backboneId: spec.backboneId ?? checkpoint.backboneId,
      offsets: { '0': String(spec.version * 10) },
      examplesTrained: spec.version * 10,
      figures: { holdoutLoss: 1.5 },
      newestEventTs: spec.newestEventTs === undefined ? Date.now() - 500 : spec.newestEventTs,
      publishedAt: Date.now(),
    },
    serialized,
  );
  spec.mutate?.(snapshot);
  return snapshot;
}
