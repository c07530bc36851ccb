export { createRng, type Rng } from './rng.js';
export { INTERACTION_TYPES, isInteractionType, sortByTs, type Interaction, type InteractionType } from './interaction.js';
export {
  DATA_ERRORS,
  DatasetFormatError,
  UnsupportedDatasetError,
  type DataErrorCode,
  type DataErrorSpec,
} from './dataset-error.js';
export {
  createSyntheticWorld,
  DEFAULT_WORLD_OPTIONS,
  smallWorldOptions,
  WORLD_EPOCH_MS,
  type DriftEvent,
  type SyntheticWorld,
  type SyntheticWorldOptions,
} from './synthetic-world.js';
export { PROGRESS_EVERY, type LoadOptions, type LoadProgress } from './file-lines.js';
export type { ItemMetadata } from './item-metadata.js';
export {
  loadMovieLens100k,
  loadMovieLensLatest,
  loadMovieLensMovies,
  loadMovieLensRatings,
  type MovieLensLoadOptions,
} from './movielens.js';
export { loadInteractionsFile, SECONDS_THRESHOLD } from './interactions-file.js';
export { loadDataset, type LoadedDataset } from './load-dataset.js';
export { groupByUser, leaveOneOutSplit, timeSplit } from './splits.js';
