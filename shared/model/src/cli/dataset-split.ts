import { basename } from 'node:path';
import { type DriftEvent, type Interaction, type ItemMetadata, loadDataset, timeSplit } from '@reco/data';
import { intOption } from './cli-config.js';

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

/**
 * What the ablation CLIs share: the data set of `--data`, its stream cut to the first
 * `--stream-events` (default `defaultEvents`), and the backbone folder (`--backbone`, else the
 * data set's default).
 */
export async function loadStreamPrefix(args: { data?: unknown; backbone?: unknown; 'stream-events'?: unknown }, defaultEvents: number): Promise<{ split: DatasetSplit; events: number; backboneDir: string }> {
  const data = String(args.data);
  const backboneDir = typeof args.backbone === 'string' ? args.backbone : defaultBackboneDir(data);
  const loaded = await loadSplit(data);
  const events = intOption(args['stream-events'] as string | undefined, 'stream-events', defaultEvents);
  return { split: { ...loaded, stream: loaded.stream.slice(0, events) }, events, backboneDir };
}

/** Default checkpoint folder for a data set: `.cache/backbones/<name>`. */
export function defaultBackboneDir(spec: string): string {
  const name = spec === 'synthetic' ? 'synthetic' : basename(spec).replace(/[^A-Za-z0-9._-]+/g, '_');
  return `.cache/backbones/${name}`;
}
