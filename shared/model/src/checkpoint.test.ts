import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createRng, type ItemMetadata } from '@reco/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import { CheckpointError, MANIFEST_FILE, WEIGHTS_FILE, loadCheckpoint, readCheckpointManifest, saveCheckpoint } from './checkpoint.js';

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

  it('carries item metadata for vocabulary items only, without changing the backbone id', async () => {
    const plainId = await saveCheckpoint(join(dir, 'f'), backbone, itemIds);
    const withExtraField = { title: 'Lighthouse, The (1998)', categories: ['Drama', 'Mystery'], rating: 4 };
    const titles = new Map<string, ItemMetadata>([
      ['item-3', withExtraField],
      ['not-in-vocabulary', { title: 'Elsewhere', categories: ['Comedy'] }],
      ['item-0', { title: 'Static (2002)', categories: [] }],
    ]);
    const id = await saveCheckpoint(join(dir, 'g'), backbone, itemIds, { note: 'with titles' }, { itemMetadata: titles });
    expect(id).toBe(plainId);
    const manifest = await readCheckpointManifest(join(dir, 'g'));
    // Vocabulary order, and only title and categories, whatever else the caller's entries held.
    expect(manifest.items).toEqual({
      'item-0': { title: 'Static (2002)', categories: [] },
      'item-3': { title: 'Lighthouse, The (1998)', categories: ['Drama', 'Mystery'] },
    });
    expect(Object.keys(manifest.items ?? {})).toEqual(['item-0', 'item-3']);
    const loaded = await loadCheckpoint(join(dir, 'g'));
    expect(loaded.backboneId).toBe(plainId);
    expect([...loaded.itemMetadata]).toEqual([
      ['item-0', { title: 'Static (2002)', categories: [] }],
      ['item-3', { title: 'Lighthouse, The (1998)', categories: ['Drama', 'Mystery'] }],
    ]);
    loaded.backbone.dispose();
  });

  it('loads a manifest without items, as written before metadata existed, with empty item metadata', async () => {
    await saveCheckpoint(join(dir, 'h'), backbone, itemIds);
    const raw = JSON.parse(await readFile(join(dir, 'h', MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
    expect(raw).not.toHaveProperty('items');
    const loaded = await loadCheckpoint(join(dir, 'h'));
    expect(loaded.itemMetadata.size).toBe(0);
    loaded.backbone.dispose();
  });

  it('carries pretraining click counts per item, outside the backbone id; a checkpoint without them loads with none', async () => {
    const counts = itemIds.map((_, i) => (i * 7) % 5);
    const id = await saveCheckpoint(join(dir, 'j'), backbone, itemIds, {}, { itemCounts: Float32Array.from(counts) });
    expect(id).toBe(await saveCheckpoint(join(dir, 'k'), backbone, itemIds));
    expect((await readCheckpointManifest(join(dir, 'j'))).itemCounts).toEqual(counts);
    const loaded = await loadCheckpoint(join(dir, 'j'));
    expect([...(loaded.itemCounts ?? [])]).toEqual(itemIds.map((item, i) => [item, counts[i]]));
    loaded.backbone.dispose();
    const older = await loadCheckpoint(join(dir, 'k'));
    expect(older.itemCounts).toBeUndefined();
    older.backbone.dispose();
  });

  it('refuses counts that do not match the vocabulary, on save and on load', async () => {
    await expect(saveCheckpoint(join(dir, 'l'), backbone, itemIds, {}, { itemCounts: [1, 2] })).rejects.toThrow(/2 entries, the vocabulary 12/);
    await expect(saveCheckpoint(join(dir, 'l'), backbone, itemIds, {}, { itemCounts: itemIds.map((_, i) => (i === 4 ? Number.NaN : 1)) })).rejects.toThrow(/item-4 is NaN/);
    await saveCheckpoint(join(dir, 'l'), backbone, itemIds, {}, { itemCounts: itemIds.map(() => 1) });
    const path = join(dir, 'l', MANIFEST_FILE);
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...manifest, itemCounts: [1, 2, 3] }));
    await expect(loadCheckpoint(join(dir, 'l'))).rejects.toThrow(new RegExp(`${path}: itemCounts must be an array with one count per item`));
    await writeFile(path, JSON.stringify({ ...manifest, itemCounts: itemIds.map((_, i) => (i === 2 ? -1 : 1)) }));
    await expect(loadCheckpoint(join(dir, 'l'))).rejects.toThrow(/itemCounts\[2\] is not a finite, non-negative number/);
  });

  it('refuses malformed items, naming the manifest', async () => {
    const path = join(dir, 'i', MANIFEST_FILE);
    await saveCheckpoint(join(dir, 'i'), backbone, itemIds, {}, { itemMetadata: new Map([['item-1', { title: 'One', categories: ['A'] }]]) });
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...manifest, items: { 'item-1': { title: 'One', categories: 'A' } } }));
    await expect(loadCheckpoint(join(dir, 'i'))).rejects.toThrow(new RegExp(`${path}: items\\['item-1'\\] needs a string title`));
    await writeFile(path, JSON.stringify({ ...manifest, items: { stranger: { title: 'X', categories: [] } } }));
    await expect(loadCheckpoint(join(dir, 'i'))).rejects.toThrow(/items names 'stranger', which is not in itemIds/);
  });
});
