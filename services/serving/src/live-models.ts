import { ServingError } from './errors.js';
import type { LiveModel } from './live-model.js';

/** A variant's state: what answers now, and what a rollback would bring back. Replaced, never mutated. */
interface VariantSlot {
  readonly current: LiveModel;
  readonly previous: LiveModel | undefined;
}

/** A model lent to one request; `release()` exactly once when the request is done with it. */
export interface ModelLease {
  readonly model: LiveModel;
  release(): void;
}

export interface SwapResult {
  variant: string;
  version: number;
  previousVersion: number | undefined;
  /** The model retired by this swap (the one before `previous`, or the one a rollback record withdraws), if any. */
  retiredVersion: number | undefined;
}

/**
 * The registry of live models, one slot per variant: the hot-swap.
 *
 * - A request takes a lease on `slot.current` synchronously (no await between reading the
 *   reference and counting the lease), then uses that object to the end, whatever swaps happen
 *   meanwhile: no request ever sees a half-updated model, because models are never updated.
 * - A swap builds the new model completely first, then replaces the variant's slot in one
 *   assignment. The replaced model becomes `previous` (kept for instant rollback; a version-0
 *   start-up placeholder is not kept); the one before it is retired, and its tensors are
 *   disposed when its last lease ends.
 * - At most three versions of a variant hold tensors: current, previous, and retired ones still
 *   serving in-flight requests.
 */
export class LiveModels {
  readonly #slots = new Map<string, VariantSlot>();
  /** The newest version ever applied per variant: a rollback must not let it be re-applied. */
  readonly #newestApplied = new Map<string, number>();
  #closed = false;

  variants(): string[] {
    return [...this.#slots.keys()].sort();
  }

  has(variant: string): boolean {
    return this.#slots.has(variant);
  }

  current(variant: string): LiveModel | undefined {
    return this.#slots.get(variant)?.current;
  }

  previous(variant: string): LiveModel | undefined {
    return this.#slots.get(variant)?.previous;
  }

  /** The highest version this replica has ever applied for the variant (snapshots must beat it). */
  newestVersion(variant: string): number | undefined {
    return this.#newestApplied.get(variant);
  }

  lease(variant: string): ModelLease {
    const slot = this.#slots.get(variant);
    if (slot === undefined) throw new ServingError('RECO_ERR_UNKNOWN_VARIANT', `variant "${variant}" is not live; live variants: ${this.variants().join(', ')}`);
    const model = slot.current;
    model.acquire();
    let released = false;
    return {
      model,
      release: () => {
        if (released) return;
        released = true;
        model.release();
      },
    };
  }

  /**
   * Makes `model` the live one of its variant. The registry owns the model from here on: if it
   * refuses it (closed, or not newer: the caller checked, this checks again) it retires it too.
   * A rollback record (its source carries `meta.rollback`) withdraws the version it replaces: that
   * one is retired, not kept, so a second rollback cannot bring the withdrawn parameters back.
   */
  swap(model: LiveModel): SwapResult {
    const { variant, version } = model.meta;
    const newest = this.#newestApplied.get(variant);
    if (this.#closed || (newest !== undefined && version <= newest)) {
      model.retire();
      throw new Error(this.#closed ? 'live models are closed' : `version ${version} of ${variant} is not newer than ${newest}`);
    }
    const slot = this.#slots.get(variant);
    // Version 0 is the start-up placeholder (identity initialisation), not a published version:
    // it is not kept for rollback, so "rollback" always means "to the previous snapshot".
    const withdraws = model.source?.meta.rollback !== undefined;
    const keep = slot !== undefined && slot.current.meta.version > 0 && !withdraws ? slot.current : undefined;
    this.#slots.set(variant, { current: model, previous: keep });
    this.#newestApplied.set(variant, version);
    const retired = keep === undefined ? [slot?.current, slot?.previous] : [slot?.previous];
    for (const old of retired) old?.retire();
    return { variant, version, previousVersion: keep?.meta.version, retiredVersion: retired.find((m) => m !== undefined)?.meta.version };
  }

  /** Retires every model; each is disposed at once or when its last in-flight request ends. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots.values()) {
      slot.current.retire();
      slot.previous?.retire();
    }
    this.#slots.clear();
  }
}
