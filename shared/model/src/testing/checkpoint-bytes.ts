import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backbone } from '../backbone.js';
import { readCheckpointManifest } from '../checkpoint.js';

/** Names of backbone tensors whose current bytes differ from the checkpoint file's. */
export async function tensorsDifferingFromCheckpoint(dir: string, backbone: Backbone): Promise<string[]> {
  const manifest = await readCheckpointManifest(dir);
  const bytes = await readFile(join(dir, manifest.weightsFile));
  const changed: string[] = [];
  for (const entry of manifest.tensors) {
    const data = (await backbone.weight(entry.name).data()) as Float32Array;
    const current = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (!current.equals(bytes.subarray(entry.offset, entry.offset + entry.byteLength))) changed.push(entry.name);
  }
  return changed;
}
