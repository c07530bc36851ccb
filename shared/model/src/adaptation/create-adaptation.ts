import { createRng } from '@reco/data';
import type { Backbone } from '../backbone.js';
import type { BackboneRunner } from '../backbone-runner.js';
import { ItemCatalogue } from '../item-catalogue.js';
import type { AdaptationMethod, MethodName, SerializedAdaptation } from './adaptation-method.js';
import { AdapterMethod } from './adapter.js';
import { BitFitMethod } from './bitfit.js';
import { FrozenMethod } from './frozen.js';
import { FullFineTuneMethod } from './full.js';
import { LadderMethod } from './ladder.js';
import { LoraMethod } from './lora.js';
import { PromptMethod } from './prompt.js';

export interface AdaptationConfig {
  /** Seed of the random initial values (down-projections, LoRA A, prompt rows). */
  seed?: number;
  ladder?: { reduction?: number; temperature?: number; runner?: BackboneRunner };
  lora?: { rank?: number; alpha?: number };
  adapter?: { bottleneck?: number };
  prompt?: { length?: number };
}

/** Creates a method at its identity initialisation on a shared backbone and catalogue. */
export function createAdaptation(name: MethodName, backbone: Backbone, catalogue: ItemCatalogue, config: AdaptationConfig = {}): AdaptationMethod {
  const rng = createRng(config.seed ?? 1);
  switch (name) {
    case 'ladder':
      return new LadderMethod(backbone, catalogue, { ...config.ladder, rng });
    case 'bitfit':
      return new BitFitMethod(backbone, catalogue);
    case 'lora':
      return new LoraMethod(backbone, catalogue, { ...config.lora, rng });
    case 'adapter':
      return new AdapterMethod(backbone, catalogue, { ...config.adapter, rng });
    case 'prompt':
      return new PromptMethod(backbone, catalogue, { ...config.prompt, rng });
    case 'frozen':
      return new FrozenMethod(backbone, catalogue);
    case 'full':
      return new FullFineTuneMethod(backbone, catalogue);
  }
}

/** Method options in a snapshot, mapped back to creation options. */
export function snapshotConfig(snapshot: Pick<SerializedAdaptation, 'method' | 'options'>, runner?: BackboneRunner): AdaptationConfig {
  const o = snapshot.options;
  switch (snapshot.method) {
    case 'ladder':
      return { ladder: { reduction: o.reduction, temperature: o.temperature, runner } };
    case 'lora':
      return { lora: { rank: o.rank, alpha: o.alpha } };
    case 'adapter':
      return { adapter: { bottleneck: o.bottleneck } };
    case 'prompt':
      return { prompt: { length: o.length } };
    default:
      return {};
  }
}

/**
 * Rebuilds a method from a snapshot on the backbone it was trained against (checking that is the
 * caller's job: compare the snapshot's backbone id with the checkpoint's). The catalogue is
 * rebuilt with the snapshot's side items in their slots, so scores line up slot for slot.
 */
export function restoreAdaptation(
  snapshot: SerializedAdaptation,
  backbone: Backbone,
  backboneItemIds: readonly string[],
  options: { runner?: BackboneRunner } = {},
): AdaptationMethod {
  const catalogue = ItemCatalogue.restore(backboneItemIds, snapshot.sideCapacity, snapshot.sideItemIds);
  const method = createAdaptation(snapshot.method, backbone, catalogue, snapshotConfig(snapshot, options.runner));
  try {
    method.load(snapshot);
  } catch (error) {
    method.dispose();
    throw error;
  }
  return method;
}
