import { LiveModel, type FastPath } from './live-model.js';
import { createAdaptation, ItemCatalogue, type Backbone, type MethodName } from './model-api.js';

export interface InitialModelOptions {
  /** The shared backbone runner and ranker; without them the model scores through TF.js. */
  fast?: FastPath;
  now?: number;
}

/**
 * Version 0 of a variant: its method at its identity initialisation, which scores exactly like the
 * frozen backbone (every method starts as the identity), so a configured variant answers from the
 * first request on and its version moves from 0 to the first snapshot's. The built-in `frozen`
 * variant is one of these and never needs a snapshot. No side table (capacity 0): the first
 * snapshot brings its own catalogue.
 */
export function initialModel(variant: string, method: MethodName, backbone: Backbone, itemIds: readonly string[], backboneId: string, options: InitialModelOptions = {}): LiveModel {
  const { fast } = options;
  const adaptation = createAdaptation(method, backbone, new ItemCatalogue(itemIds, 0), fast === undefined ? {} : { ladder: { runner: fast.runner } });
  return new LiveModel(
    { variant, method, version: 0, backboneId, offsets: {}, examplesTrained: 0, figures: {}, newestEventTs: null, publishedAt: null, appliedAt: options.now ?? Date.now() },
    adaptation,
    fast === undefined ? {} : { fast },
  );
}

export function frozenModel(backbone: Backbone, itemIds: readonly string[], backboneId: string, options: InitialModelOptions = {}): LiveModel {
  return initialModel('frozen', 'frozen', backbone, itemIds, backboneId, options);
}
