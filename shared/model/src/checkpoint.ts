import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ItemMetadata } from '@reco/data';
import * as tf from '@tensorflow/tfjs-core';
import { Backbone } from './backbone.js';
import { type BackboneConfig, backboneWeightSpecs, validateBackboneConfig } from './backbone-config.js';

/**
 * Backbone checkpoint: a folder with `manifest.json` and one `weights.bin`.
 *
 * The weights file is every tensor's float32 data, little-endian, back to back in the manifest's
 * order. Its sha256 is the backbone id: snapshots name the backbone they were trained against by
 * it, so serving can refuse adaptation parameters trained for different weights.
 */
export const CHECKPOINT_FORMAT = 'reco-backbone';
export const CHECKPOINT_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const WEIGHTS_FILE = 'weights.bin';

export interface TensorIndexEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  /** Byte offset in the weights file. */
  offset: number;
  byteLength: number;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  config: BackboneConfig;
  /** External item ids; the item at position i has vocabulary id i + FIRST_ITEM_ID. */
  itemIds: string[];
  /**
   * Titles and categories of the vocabulary items that have them, so that whoever serves this
   * backbone can show what it recommends. Absent from checkpoints written without metadata. It
   * lives outside the weights file, so adding or changing it never changes the backbone id.
   */
  items?: Record<string, ItemMetadata>;
  /**
   * How often each vocabulary item was clicked in the pretraining log, position by position with
   * `itemIds`: the popularity a cold-start answer starts from before any live click. Absent from
   * checkpoints written before it existed. Like `items`, it is not part of the backbone id.
   */
  itemCounts?: number[];
  tensors: TensorIndexEntry[];
  weightsFile: string;
  weightsByteLength: number;
  /** sha256 (hex) of the weights file: the backbone id. */
  weightsSha256: string;
  /** Free-form provenance (data set, epochs, validation figures). */
  metadata: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  backbone: Backbone;
  itemIds: string[];
  /** From the manifest's `items`; empty when the checkpoint carries none. */
  itemMetadata: Map<string, ItemMetadata>;
  /** Pretraining click count per item id, from the manifest's `itemCounts`; undefined when it has none. */
  itemCounts: Map<string, number> | undefined;
  backboneId: string;
  manifest: CheckpointManifest;
}

export class CheckpointError extends Error {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

/** Serialises the backbone's tensors in canonical order; returns the bytes and the index. */
export async function encodeWeights(backbone: Backbone): Promise<{ bytes: Uint8Array; index: TensorIndexEntry[] }> {
  if (!isLittleEndian()) throw new Error('checkpoint writing assumes a little-endian machine');
  const index: TensorIndexEntry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const spec of backbone.specs) {
    const data = (await backbone.weight(spec.name).data()) as Float32Array;
    index.push({ name: spec.name, shape: spec.shape, dtype: 'float32', offset, byteLength: data.byteLength });
    chunks.push(data);
    offset += data.byteLength;
  }
  const bytes = new Uint8Array(offset);
  for (const [i, chunk] of chunks.entries()) bytes.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), index[i]?.offset ?? 0);
  return { bytes, index };
}

export interface SaveCheckpointOptions {
  /** Any superset of the vocabulary (a whole movies.csv, say): only the vocabulary's entries are kept. */
  itemMetadata?: ReadonlyMap<string, ItemMetadata>;
  /** Pretraining click count of each vocabulary item, in `itemIds` order (finite, not negative). */
  itemCounts?: ArrayLike<number>;
}

function vocabularyCounts(itemIds: readonly string[], counts: ArrayLike<number>): number[] {
  if (counts.length !== itemIds.length) throw new Error(`checkpoint item counts have ${counts.length} entries, the vocabulary ${itemIds.length}`);
  return Array.from(counts, (count, i) => {
    if (!Number.isFinite(count) || count < 0) throw new Error(`checkpoint item count of ${itemIds[i]} is ${count}; counts must be finite and not negative`);
    return count;
  });
}

function vocabularyMetadata(itemIds: readonly string[], all: ReadonlyMap<string, ItemMetadata>): Record<string, ItemMetadata> {
  const entries: [string, ItemMetadata][] = [];
  for (const id of itemIds) {
    const item = all.get(id);
    // Copied field by field so that extra properties a caller's objects carry stay out of the manifest.
    if (item !== undefined) entries.push([id, { title: item.title, categories: [...item.categories] }]);
  }
  // fromEntries defines own properties, so an item id such as '__proto__' cannot reach the prototype.
  return Object.fromEntries(entries);
}

/**
 * Writes the checkpoint and returns its backbone id. The weights go first and the manifest last,
 * each through a temporary file and a rename, so a folder with a manifest is always complete.
 */
export async function saveCheckpoint(
  dir: string,
  backbone: Backbone,
  itemIds: readonly string[],
  metadata: Record<string, unknown> = {},
  options: SaveCheckpointOptions = {},
): Promise<string> {
  if (itemIds.length !== backbone.config.numItems) {
    throw new Error(`checkpoint vocabulary has ${itemIds.length} items, the backbone ${backbone.config.numItems}`);
  }
  const { bytes, index } = await encodeWeights(backbone);
  const id = sha256(bytes);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    config: backbone.config,
    itemIds: [...itemIds],
    ...(options.itemMetadata === undefined ? {} : { items: vocabularyMetadata(itemIds, options.itemMetadata) }),
    ...(options.itemCounts === undefined ? {} : { itemCounts: vocabularyCounts(itemIds, options.itemCounts) }),
    tensors: index,
    weightsFile: WEIGHTS_FILE,
    weightsByteLength: bytes.byteLength,
    weightsSha256: id,
    metadata,
  };
  await mkdir(dir, { recursive: true });
  const weightsPath = join(dir, WEIGHTS_FILE);
  const manifestPath = join(dir, MANIFEST_FILE);
  // Unique temporary names: two writers of the same folder never interleave inside one file.
  const tmp = `.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(`${weightsPath}${tmp}`, bytes);
  await rename(`${weightsPath}${tmp}`, weightsPath);
  await writeFile(`${manifestPath}${tmp}`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${manifestPath}${tmp}`, manifestPath);
  return id;
}

async function readManifest(path: string): Promise<CheckpointManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CheckpointError(`cannot read checkpoint manifest ${path}`, path, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`checkpoint manifest ${path} is not valid JSON`, path, { cause: error });
  }
  const m = parsed as Partial<CheckpointManifest>;
  if (m.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${path} is not a ${CHECKPOINT_FORMAT} manifest`, path);
  if (m.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(`${path} has format version ${String(m.formatVersion)}, this code reads ${CHECKPOINT_FORMAT_VERSION}`, path);
  }
  if (m.config === undefined || !Array.isArray(m.itemIds) || !Array.isArray(m.tensors) || typeof m.weightsSha256 !== 'string') {
    throw new CheckpointError(`checkpoint manifest ${path} lacks config, itemIds, tensors or weightsSha256`, path);
  }
  checkItems(m.items, m.itemIds, path);
  checkItemCounts(m.itemCounts, m.itemIds, path);
  return m as CheckpointManifest;
}

function checkItems(items: unknown, itemIds: readonly string[], path: string): void {
  if (items === undefined) return;
  if (typeof items !== 'object' || items === null || Array.isArray(items)) {
    throw new CheckpointError(`checkpoint manifest ${path}: items is not an object keyed by item id`, path);
  }
  const vocabulary = new Set(itemIds);
  for (const [id, entry] of Object.entries(items as Record<string, unknown>)) {
    if (!vocabulary.has(id)) throw new CheckpointError(`checkpoint manifest ${path}: items names '${id}', which is not in itemIds`, path);
    const item = entry as Partial<ItemMetadata> | null;
    if (typeof item?.title !== 'string' || !Array.isArray(item.categories) || !item.categories.every((c) => typeof c === 'string')) {
      throw new CheckpointError(`checkpoint manifest ${path}: items['${id}'] needs a string title and an array of string categories`, path);
    }
  }
}

function checkItemCounts(counts: unknown, itemIds: readonly string[], path: string): void {
  if (counts === undefined) return;
  if (!Array.isArray(counts) || counts.length !== itemIds.length) {
    throw new CheckpointError(`checkpoint manifest ${path}: itemCounts must be an array with one count per item of itemIds (${itemIds.length})`, path);
  }
  const bad = counts.findIndex((c) => typeof c !== 'number' || !Number.isFinite(c) || c < 0);
  if (bad >= 0) throw new CheckpointError(`checkpoint manifest ${path}: itemCounts[${bad}] is not a finite, non-negative number`, path);
}

/** Reads the manifest only (e.g. to learn the backbone id without loading weights). */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  return readManifest(join(dir, MANIFEST_FILE));
}

/**
 * Loads a frozen backbone, refusing a truncated, corrupted or mismatched weights file with an
 * error naming the file. Nothing is created on the TF.js side until every check has passed.
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifest = await readManifest(manifestPath);
  const config = validateBackboneConfig(manifest.config);
  const weightsPath = join(dir, manifest.weightsFile);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(weightsPath);
  } catch (error) {
    throw new CheckpointError(`cannot read checkpoint weights ${weightsPath}`, weightsPath, { cause: error });
  }
  if (bytes.byteLength !== manifest.weightsByteLength) {
    throw new CheckpointError(
      `checkpoint weights ${weightsPath} are ${bytes.byteLength} bytes, the manifest says ${manifest.weightsByteLength} (truncated or replaced)`,
      weightsPath,
    );
  }
  const actual = sha256(bytes);
  if (actual !== manifest.weightsSha256) {
    throw new CheckpointError(
      `checkpoint weights ${weightsPath} have sha256 ${actual}, the manifest says ${manifest.weightsSha256} (corrupted or mismatched)`,
      weightsPath,
    );
  }
  if (manifest.itemIds.length !== config.numItems) {
    throw new CheckpointError(`${manifestPath} lists ${manifest.itemIds.length} items, its config ${config.numItems}`, manifestPath);
  }
  const specs = backboneWeightSpecs(config);
  const byName = new Map(manifest.tensors.map((t) => [t.name, t]));
  for (const spec of specs) {
    const entry = byName.get(spec.name);
    const expected = spec.shape.reduce((a, b) => a * b, 1) * 4;
    if (entry === undefined) throw new CheckpointError(`${manifestPath} has no tensor ${spec.name}`, manifestPath);
    if (entry.shape.join('x') !== spec.shape.join('x') || entry.byteLength !== expected || entry.offset + entry.byteLength > bytes.byteLength) {
      throw new CheckpointError(`${manifestPath}: tensor ${spec.name} index entry does not match the config`, manifestPath);
    }
  }
  // Copy into an aligned buffer: a Buffer from readFile may start at any byte offset.
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  const tensors = new Map<string, tf.Tensor>();
  for (const spec of specs) {
    const entry = byName.get(spec.name) as TensorIndexEntry;
    const data = new Float32Array(aligned.buffer, entry.offset, entry.byteLength / 4);
    tensors.set(spec.name, tf.tensor(data, spec.shape, 'float32'));
  }
  return {
    backbone: new Backbone(config, tensors),
    itemIds: manifest.itemIds,
    itemMetadata: new Map(Object.entries(manifest.items ?? {})),
    itemCounts: manifest.itemCounts === undefined ? undefined : new Map(manifest.itemIds.map((id, i) => [id, manifest.itemCounts?.[i] ?? 0])),
    backboneId: actual,
    manifest,
  };
}
