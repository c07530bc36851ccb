import { decodeSnapshot, type AdapterSnapshot, type Logger } from '@reco/stream';
import { LiveModel, type FastPath } from './live-model.js';
import type { LiveModels } from './live-models.js';
import type { ServingMetrics } from './metrics.js';
import { restoreAdaptation, type Backbone } from './model-api.js';
import { toSerializedAdaptation } from './snapshot-adaptation.js';

/** Why a snapshot was refused: the `reason` label of reco_snapshots_refused_total (a closed set). */
export type RefusalReason = 'corrupt' | 'malformed' | 'unknown_method' | 'backbone_mismatch' | 'stale_version' | 'non_finite' | 'shape_mismatch';

export type ApplyOutcome =
  | { applied: true; variant: string; version: number; previousVersion: number | undefined }
  | { applied: false; variant: string; version: number | undefined; reason: RefusalReason; message: string };

export interface SnapshotApplierOptions {
  backbone: Backbone;
  backboneId: string;
  /** The backbone's vocabulary, in checkpoint order (catalogues are rebuilt from it). */
  itemIds: readonly string[];
  models: LiveModels;
  metrics: ServingMetrics;
  logger: Logger;
  /** The shared runner and ranker: ladder models run their backbone through it and score fast. */
  fast?: FastPath;
  now?: () => number;
}

/**
 * Turns snapshot messages into live models, or refuses them. Every check runs before anything is
 * built, the model is built completely before the swap, and the whole of `apply` is synchronous,
 * so nothing can observe a state between "checked" and "swapped". A refusal changes nothing:
 * the previous version keeps answering, and the refusal is logged and counted with its reason.
 */
export class SnapshotApplier {
  readonly #o: SnapshotApplierOptions;
  readonly #now: () => number;

  constructor(options: SnapshotApplierOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Applies one message of the adapters topic (its key is the variant). */
  applyMessage(value: Buffer | null, key: Buffer | null): ApplyOutcome {
    const keyVariant = key?.toString('utf8') ?? 'unknown';
    let snapshot: AdapterSnapshot;
    try {
      if (value === null) throw new Error('empty message (a tombstone)');
      snapshot = decodeSnapshot(value);
    } catch (error) {
      return this.#refuse(keyVariant, undefined, 'corrupt', (error as Error).message);
    }
    if (key !== null && snapshot.meta.variant !== keyVariant) {
      return this.#refuse(keyVariant, snapshot.meta.version, 'malformed', `message key ${keyVariant} differs from meta.variant ${String(snapshot.meta.variant)}`);
    }
    return this.apply(snapshot);
  }

  apply(snapshot: AdapterSnapshot): ApplyOutcome {
    const { meta } = snapshot;
    const variant = typeof meta.variant === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(meta.variant) ? meta.variant : 'unknown';
    if (variant === 'unknown') return this.#refuse(variant, undefined, 'malformed', `meta.variant ${JSON.stringify(meta.variant)} is not a variant name`);
    const version = meta.version;
    if (!Number.isSafeInteger(version) || version < 1) return this.#refuse(variant, undefined, 'malformed', `meta.version ${JSON.stringify(version)} is not a positive integer`);
    if (meta.backboneId !== this.#o.backboneId) {
      return this.#refuse(variant, version, 'backbone_mismatch', `trained against backbone ${String(meta.backboneId)}, this replica serves ${this.#o.backboneId}`);
    }
    const newest = this.#o.models.newestVersion(variant);
    if (newest !== undefined && version <= newest) {
      return this.#refuse(variant, version, 'stale_version', `version ${version} is not newer than ${newest}, the newest applied for ${variant}`);
    }
    for (const t of snapshot.tensors) {
      const bad = t.values.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) return this.#refuse(variant, version, 'non_finite', `tensor ${t.name} holds ${String(t.values[bad])} at index ${bad}`);
    }
    const adaptation = toSerializedAdaptation(snapshot);
    if (!adaptation.ok) return this.#refuse(variant, version, adaptation.reason, adaptation.message);
    // The side tables are sized by sideCapacity: check them against the snapshot's own tensors
    // before building, so a wrong capacity cannot make us allocate a huge table just to refuse it.
    const { sideCapacity } = adaptation.value;
    const dim = this.#o.backbone.config.dim;
    const expectSide: Record<string, string> = {
      'side.new_item_embedding': `${sideCapacity}x${dim}`,
      'side.item_bias': String(this.#o.itemIds.length + 2 + sideCapacity),
    };
    for (const [name, shape] of Object.entries(expectSide)) {
      const t = snapshot.tensors.find((x) => x.name === name);
      if (t === undefined || t.shape.join('x') !== shape) {
        return this.#refuse(variant, version, 'shape_mismatch', `tensor ${name} has shape [${t?.shape.join(', ') ?? 'missing'}], expected [${shape.replace('x', ', ')}]`);
      }
    }
    let model: LiveModel;
    try {
      // restoreAdaptation builds the method from the snapshot's options and load() checks every
      // tensor name and shape against it, disposing what it built if anything is off.
      const { fast } = this.#o;
      const method = restoreAdaptation(adaptation.value, this.#o.backbone, this.#o.itemIds, fast === undefined ? {} : { runner: fast.runner });
      model = new LiveModel(
        {
          variant,
          method: method.name,
          version,
          backboneId: meta.backboneId,
          offsets: meta.offsets ?? {},
          examplesTrained: meta.examplesTrained ?? 0,
          figures: meta.figures ?? {},
          newestEventTs: meta.newestEventTs ?? null,
          publishedAt: meta.publishedAt ?? null,
          appliedAt: this.#now(),
        },
        method,
        { onDispose: (_m, deferred) => this.#o.metrics.modelsDisposed.inc({ deferred: String(deferred) }), ...(fast === undefined ? {} : { fast }) },
      );
    } catch (error) {
      return this.#refuse(variant, version, 'shape_mismatch', (error as Error).message);
    }
    const result = this.#o.models.swap(model);
    const { metrics, logger } = this.#o;
    metrics.snapshotsApplied.inc({ variant });
    metrics.swaps.inc({ variant, kind: 'snapshot' });
    metrics.liveVersion.set({ variant }, version);
    if (model.meta.newestEventTs !== null) metrics.freshness.observe({ variant }, Math.max(0, (model.meta.appliedAt - model.meta.newestEventTs) / 1000));
    logger.info({ variant, version, previousVersion: result.previousVersion, method: model.meta.method }, 'snapshot applied');
    return { applied: true, variant, version, previousVersion: result.previousVersion };
  }

  #refuse(variant: string, version: number | undefined, reason: RefusalReason, message: string): ApplyOutcome {
    this.#o.metrics.snapshotsRefused.inc({ variant, reason });
    this.#o.logger.warn({ variant, version, reason, detail: message }, 'snapshot refused; the previous version keeps answering');
    return { applied: false, variant, version, reason, message };
  }
}
