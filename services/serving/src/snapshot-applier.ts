import type { Logger } from '@reco/stream';
import { LiveModel, type FastPath } from './live-model.js';
import type { LiveModels } from './live-models.js';
import type { ServingMetrics } from './metrics.js';
import {
  createAdaptation,
  expectationsFor,
  ItemCatalogue,
  readSnapshot,
  restoreAdaptation,
  type AdapterSnapshot,
  type Backbone,
  type MethodName,
  type RollbackNote,
  type SnapshotRefusal,
  type SnapshotTrust,
  type VariantBounds,
} from './model-api.js';

/** Why a snapshot was refused: the `reason` label of reco_snapshots_refused_total (SNAPSHOT_REFUSALS, a closed set). */
export type RefusalReason = SnapshotRefusal;

export type ApplyOutcome =
  | { applied: true; variant: string; version: number; previousVersion: number | undefined; rollback: RollbackNote | undefined }
  | { applied: false; variant: string; version: number | undefined; reason: RefusalReason; message: string };

export interface SnapshotApplierOptions {
  backbone: Backbone;
  backboneId: string;
  /** The backbone's vocabulary, in checkpoint order (catalogues are rebuilt from it). */
  itemIds: readonly string[];
  models: LiveModels;
  metrics: ServingMetrics;
  logger: Logger;
  /** The shared key (or insecure mode): every message is verified with it before it is read. */
  trust: SnapshotTrust;
  /** The configured variants and what their snapshots may look like; any other variant is refused. */
  variants: ReadonlyMap<string, VariantBounds>;
  /** How far ahead of the live version a snapshot may be (RECO_SNAPSHOT_MAX_VERSION_JUMP). */
  maxVersionJump: number;
  /** The shared runner and ranker: ladder models run their backbone through it and score fast. */
  fast?: FastPath;
  now?: () => number;
}

type Waiter = { variant: string; version: number; accept: (outcome: ApplyOutcome) => boolean; settle: (outcome: ApplyOutcome | undefined) => void };

export interface WaitOptions {
  /** Which outcomes end the wait (default: any, applied or refused). */
  accept?: (outcome: ApplyOutcome) => boolean;
  /** Ends the wait early with undefined (the caller gave up, e.g. its produce failed). */
  signal?: AbortSignal;
}

/**
 * Turns snapshot messages into live models, or refuses them. The snapshot owner of @reco/model
 * verifies the signature, decodes and checks the message against this replica's configuration
 * (configured variant and method, side capacity and shapes from config, backbone, version newer
 * and not implausibly far ahead) before anything is built; the model is built completely before
 * the swap, and the whole of `applyMessage` is synchronous, so nothing can observe a state between
 * "checked" and "swapped". A refusal changes nothing: the previous version keeps answering, and
 * the refusal is logged and counted with its reason.
 */
export class SnapshotApplier {
  readonly #o: SnapshotApplierOptions;
  readonly #now: () => number;
  readonly #waiters = new Set<Waiter>();

  constructor(options: SnapshotApplierOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Applies one message of the adapters topic (its key is the variant). */
  applyMessage(value: Buffer | null, key: Buffer | null): ApplyOutcome {
    const { models, backbone, itemIds, trust, variants, maxVersionJump } = this.#o;
    const read = readSnapshot(value, key, trust, {
      ...expectationsFor({ backboneId: this.#o.backboneId, itemIds, backbone }, variants),
      versions: { newest: (variant) => models.newestVersion(variant), maxJump: maxVersionJump },
    });
    const outcome = read.ok ? this.#build(read.snapshot, read.adaptation, read.variant, read.version) : this.#refuse(read.variant, read.version, read.reason, read.message);
    this.#settle(outcome);
    return outcome;
  }

  /**
   * Resolves with the outcome of the first message for `variant` at `version` or later that
   * `accept` takes, or undefined after `timeoutMs` (or once `signal` aborts). The rollback route
   * waits for its own record to come back through the topic, so every replica and this one apply
   * it in the same log order; it registers before producing, so a fast consumer cannot beat it.
   */
  waitFor(variant: string, version: number, timeoutMs: number, options: WaitOptions = {}): Promise<ApplyOutcome | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        variant,
        version,
        accept: options.accept ?? (() => true),
        settle: (outcome) => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', abandon);
          this.#waiters.delete(waiter);
          resolve(outcome);
        },
      };
      const abandon = (): void => waiter.settle(undefined);
      const timer = setTimeout(abandon, timeoutMs);
      if (options.signal?.aborted === true) return abandon();
      options.signal?.addEventListener('abort', abandon, { once: true });
      this.#waiters.add(waiter);
    });
  }

  #settle(outcome: ApplyOutcome): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.variant === outcome.variant && outcome.version !== undefined && outcome.version >= waiter.version && waiter.accept(outcome)) waiter.settle(outcome);
    }
  }

  #build(snapshot: AdapterSnapshot, adaptation: Parameters<typeof restoreAdaptation>[0], variant: string, version: number): ApplyOutcome {
    const { meta } = snapshot;
    let model: LiveModel;
    try {
      // The owner has checked every bound the configuration sets; load() still checks every
      // tensor name and shape against the method built from them, disposing it if anything is off.
      const { fast } = this.#o;
      const method = restoreAdaptation(adaptation, this.#o.backbone, this.#o.itemIds, fast === undefined ? {} : { runner: fast.runner });
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
        { onDispose: (_m, deferred) => this.#o.metrics.modelsDisposed.inc({ deferred: String(deferred) }), source: snapshot, ...(fast === undefined ? {} : { fast }) },
      );
    } catch (error) {
      return this.#refuse(variant, version, 'shape_mismatch', (error as Error).message);
    }
    const result = this.#o.models.swap(model);
    const { metrics, logger } = this.#o;
    metrics.snapshotsApplied.inc({ variant });
    metrics.swaps.inc({ variant, kind: meta.rollback === undefined ? 'snapshot' : 'rollback' });
    metrics.liveVersion.set({ variant }, version);
    if (model.meta.newestEventTs !== null && meta.rollback === undefined) metrics.freshness.observe({ variant }, Math.max(0, (model.meta.appliedAt - model.meta.newestEventTs) / 1000));
    if (meta.rollback === undefined) logger.info({ variant, version, previousVersion: result.previousVersion, method: model.meta.method }, 'snapshot applied');
    else logger.warn({ variant, version, previousVersion: result.previousVersion, rollback: meta.rollback }, 'rollback record applied: the parameters of an earlier version answer again');
    return { applied: true, variant, version, previousVersion: result.previousVersion, rollback: meta.rollback };
  }

  #refuse(variant: string, version: number | undefined, reason: RefusalReason, message: string): ApplyOutcome {
    // The label is bounded: a name from an unverified message key would let anyone who can write
    // to the topic create series at will.
    this.#o.metrics.snapshotsRefused.inc({ variant: this.#o.variants.has(variant) ? variant : 'other', reason });
    this.#o.logger.warn({ variant, version, reason, detail: message }, 'snapshot refused; the previous version keeps answering');
    return { applied: false, variant, version, reason, message };
  }
}

/**
 * What this replica's configuration allows per variant: the configured method, built here at its
 * identity initialisation to learn the options (hence every shape) serving would build it with,
 * and the side capacity the configuration sets. Snapshots for any other variant are refused.
 */
export async function configuredBounds(
  variants: readonly { name: string; method: MethodName }[],
  backbone: Backbone,
  itemIds: readonly string[],
  maxSideCapacity: number,
): Promise<Map<string, VariantBounds>> {
  const bounds = new Map<string, VariantBounds>();
  for (const { name, method } of variants) {
    const probe = createAdaptation(method, backbone, new ItemCatalogue(itemIds, 0));
    try {
      const { options } = await probe.serialize();
      bounds.set(name, Object.freeze({ method, options: Object.freeze({ ...options }), maxSideCapacity }));
    } finally {
      probe.dispose();
    }
  }
  return bounds;
}
