import { basename, dirname, resolve } from 'node:path';
import { UnsupportedDatasetError } from './dataset-error.js';
import type { LoadOptions } from './file-lines.js';
import type { Interaction } from './interaction.js';
import { loadInteractionsFile } from './interactions-file.js';
import { loadMovieLens100k, loadMovieLensRatings } from './movielens.js';
import { createSyntheticWorld, type SyntheticWorld, type SyntheticWorldOptions } from './synthetic-world.js';

export interface LoadedDataset {
  /** For logs and reports: 'synthetic', or the file with its folder, e.g. 'ml-1m/ratings.dat'. */
  name: string;
  /** Sorted by ts. For the synthetic world: pretrainLog followed by stream. */
  interactions: Interaction[];
  /** Only for 'synthetic': the world, with its drifts and its pretrain/stream boundary. */
  world?: SyntheticWorld;
}

/**
 * One entry point for the CLIs: 'synthetic' (optionally with world options) or a file path whose
 * name says its format. MovieLens files are recognised by their canonical names because their
 * extensions (.dat, .data) say nothing; any other `*.dat` is assumed to use the `::` layout too.
 */
export async function loadDataset(
  spec: string,
  options: { world?: SyntheticWorldOptions } & LoadOptions = {},
): Promise<LoadedDataset> {
  if (spec === 'synthetic') {
    const world = createSyntheticWorld(options.world);
    return { name: 'synthetic', interactions: [...world.pretrainLog, ...world.stream], world };
  }
  const file = basename(spec).toLowerCase();
  const name = `${basename(dirname(resolve(spec)))}/${basename(spec)}`;
  if (file === 'u.data' || file.endsWith('.data')) return { name, interactions: await loadMovieLens100k(spec, options) };
  if (file.endsWith('.dat')) return { name, interactions: await loadMovieLensRatings(spec, options) };
  if (file.endsWith('.csv') || file.endsWith('.jsonl') || file.endsWith('.ndjson')) {
    return { name, interactions: await loadInteractionsFile(spec, options) };
  }
  throw new UnsupportedDatasetError(spec);
}
