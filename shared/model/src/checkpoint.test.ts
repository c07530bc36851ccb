import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import { CheckpointError, WEIGHTS_FILE, loadCheckpoint, saveCheckpoint } from './checkpoint.js';

const config = { numItems: 12, dim: 8, blocks: 2, heads: 2, maxLen: 6, ffnDim: 16, layerNormEpsilon: 1e-5 };
const itemIds = Array.from({ length: 12 }, (_, i) => `item-${i}`);
let dir: string;
let backbone: Backbone;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'reco-ckpt-'));
  backbone = Backbone.random(config, createRng(3));
});

afterAll(async () => {
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('checkpoint', () => {
  it('round-trips every tensor bit-exactly with the vocabulary and config', async () => {
    const id = await saveCheckpoint(join(dir, 'a'), backbone, itemIds, { note: 'test' });
    const loaded = await loadCheckpoint(join(dir, 'a'));
    expect(loaded.backboneId).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.itemIds).toEqual(itemIds);
    expect(loaded.backbone.config).toEqual(config);
    expect(loaded.manifest.metadata).toEqual({ note: 'test' });
    for (const name of backbone.weightNames()) {
      const a = backbone.weight(name).dataSync();
      const b = loaded.backbone.weight(name).dataSync();
      expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer, a.byteOffset, a.byteLength))).toBe(true);
    }
    // The loaded backbone is frozen: plain tensors, nothing an optimiser could update.
    expect(loaded.backbone.variables()).toHaveLength(0);
    loaded.backbone.dispose();
  });

  it('gives the same id for the same weights and a different one for different weights', async () => {
    const again = await saveCheckpoint(join(dir, 'b'), backbone, itemIds);
    const other = Backbone.random(config, createRng(4));
    const otherId = await saveCheckpoint(join(dir, 'c'), other, itemIds);
    other.dispose();
    expect(again).toBe((await loadCheckpoint(join(dir, 'a'))).backboneId);
    expect(otherId).not.toBe(again);
  });

  it('refuses a corrupted weights file, naming it', async () => {
    await saveCheckpoint(join(dir, 'd'), backbone, itemIds);
    const path = join(dir, 'd', WEIGHTS_FILE);
    const bytes = await readFile(path);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    const before = tf.memory().numTensors;
    await expect(loadCheckpoint(join(dir, 'd'))).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(join(dir, 'd'))).rejects.toThrow(new RegExp(`${path}.*sha256.*corrupted`));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a truncated weights file and a missing folder', async () => {
    await saveCheckpoint(join(dir, 'e'), backbone, itemIds);
    const path = join(dir, 'e', WEIGHTS_FILE);
    await truncate(path, 64);
    await expect(loadCheckpoint(join(dir, 'e'))).rejects.toThrow(/64 bytes.*truncated/);
    await expect(loadCheckpoint(join(dir, 'nope'))).rejects.toThrow(/cannot read checkpoint manifest/);
  });
});
