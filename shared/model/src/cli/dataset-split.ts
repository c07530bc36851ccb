import { basename } from 'node:path';
import { type DriftEvent, type Interaction, type ItemMetadata, loadDataset, timeSplit } from '@reco/data';

/**
 * What the CLIs train on: the part of the log before the stream (for the backbone) and the
 * stream (replayed online). The synthetic world defines both; a real log is split by time,
 * the first `pretrainFraction` of events before the stream.
 */
export interface DatasetSplit {
  name: string;
  pretrain: Interaction[];
  stream: Interaction[];
  drifts: readonly DriftEvent[];
  /** Titles and categories when the data set has them (MovieLens' movies.csv). */
  items?: Map<string, ItemMetadata>;
}

export const DEFAULT_PRETRAIN_FRACTION = 0.7;

/** `minRating` keeps only MovieLens ratings at or above it (implicit feedback from liked movies). */
export async function loadSplit(spec: string, pretrainFraction = DEFAULT_PRETRAIN_FRACTION, options: { minRating?: number } = {}): Promise<DatasetSplit> {
  const dataset = await loadDataset(spec, options.minRating === undefined ? {} : { minRating: options.minRating });
  if (dataset.world !== undefined) {
    return { name: dataset.name, pretrain: [...dataset.world.pretrainLog], stream: [...dataset.world.stream], drifts: dataset.world.drifts };
  }
  const { before, after } = timeSplit(dataset.interactions, { fraction: pretrainFraction });
  return { name: dataset.name, pretrain: before, stream: after, drifts: [], ...(dataset.items === undefined ? {} : { items: dataset.items }) };
}

/** Default checkpoint folder for a data set: `.cache/backbones/<name>`. */
export function defaultBackboneDir(spec: string): string {
  const name = spec === 'synthetic' ? 'synthetic' : basename(spec).replace(/[^A-Za-z0-9._-]+/g, '_');
  return `.cache/backbones/${name}`;
}
