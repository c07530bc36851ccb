import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UnsupportedDatasetError } from './dataset-error.js';
import { readNumberedLines } from './file-lines.js';
import type { Interaction } from './interaction.js';
import { loadInteractionsFile } from './interactions-file.js';
import type { ItemMetadata } from './item-metadata.js';
import {
  isMovieLensLatestHeader,
  loadMovieLens100k,
  loadMovieLensLatest,
  loadMovieLensMovies,
  loadMovieLensRatings,
  type MovieLensLoadOptions,
} from './movielens.js';
import { createSyntheticWorld, type SyntheticWorld, type SyntheticWorldOptions } from './synthetic-world.js';

export interface LoadedDataset {
  /** For logs and reports: 'synthetic', or the file with its folder, e.g. 'ml-1m/ratings.dat'. */
  name: string;
  /** Sorted by ts. For the synthetic world: pretrainLog followed by stream. */
  interactions: Interaction[];
  /** Only for 'synthetic': the world, with its drifts and its pretrain/stream boundary. */
  world?: SyntheticWorld;
  /** Only when the dataset ships item metadata: a MovieLens `movies.csv` beside its `ratings.csv`. */
  items?: Map<string, ItemMetadata>;
}

/** What a folder spec stands for: the MovieLens latest/20M/25M layout keeps its ratings under this name. */
const RATINGS_CSV = 'ratings.csv';
const MOVIES_CSV = 'movies.csv';

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    // Not there or not readable: the loader's own open then reports it with the path.
    return false;
  }
}

async function readFirstLine(path: string): Promise<string | undefined> {
  for await (const { text } of readNumberedLines(path)) return text;
  return undefined;
}

async function loadMoviesBeside(ratingsPath: string): Promise<Map<string, ItemMetadata> | undefined> {
  try {
    return await loadMovieLensMovies(join(dirname(ratingsPath), MOVIES_CSV));
  } catch (error) {
    // movies.csv is optional: a ratings.csv copied on its own still loads, just without metadata.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * One entry point for the CLIs: 'synthetic' (optionally with world options), a folder holding a
 * MovieLens `ratings.csv`, or a file path whose name says its format. MovieLens files are
 * recognised by their canonical names because their extensions (.dat, .data) say nothing; any
 * other `*.dat` is assumed to use the `::` layout too. A `.csv` is MovieLens latest/20M/25M when
 * its first line is exactly that layout's header, and a generic interactions CSV otherwise.
 *
 * `minRating` applies to the MovieLens layouts only; the synthetic world and generic
 * interactions files carry no rating to filter on.
 */
export async function loadDataset(
  spec: string,
  options: { world?: SyntheticWorldOptions } & MovieLensLoadOptions = {},
): Promise<LoadedDataset> {
  if (spec === 'synthetic') {
    const world = createSyntheticWorld(options.world);
    return { name: 'synthetic', interactions: [...world.pretrainLog, ...world.stream], world };
  }
  const path = (await isDirectory(spec)) ? join(spec, RATINGS_CSV) : spec;
  const file = basename(path).toLowerCase();
  const name = `${basename(dirname(resolve(path)))}/${basename(path)}`;
  if (file === 'u.data' || file.endsWith('.data')) return { name, interactions: await loadMovieLens100k(path, options) };
  if (file.endsWith('.dat')) return { name, interactions: await loadMovieLensRatings(path, options) };
  if (file.endsWith('.csv') && isMovieLensLatestHeader((await readFirstLine(path)) ?? '')) {
    const interactions = await loadMovieLensLatest(path, options);
    const items = await loadMoviesBeside(path);
    return items === undefined ? { name, interactions } : { name, interactions, items };
  }
  if (file.endsWith('.csv') || file.endsWith('.jsonl') || file.endsWith('.ndjson')) {
    return { name, interactions: await loadInteractionsFile(path, options) };
  }
  throw new UnsupportedDatasetError(spec);
}
