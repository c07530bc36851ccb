import * as tf from '@tensorflow/tfjs-core';
import { PlainScorer, type AdapterSnapshot, type AdaptationMethod, type BackboneRunner, type ItemRanker, type RankerTable } from './model-api.js';

/** What serving runs requests through, shared by every model version (see backbone-engine.ts). */
export interface FastPath {
  readonly runner: BackboneRunner;
  /** Top-k on ONNX Runtime (micro-batched); without it the scores are computed in JavaScript. */
  readonly ranker?: ItemRanker | undefined;
}

/** What a live model says about itself (GET /v1/models, response stamps, metrics). */
export interface LiveModelMeta {
  readonly variant: string;
  readonly method: string;
  /** Snapshot version; 0 for the built-in `frozen` model that exists before any snapshot. */
  readonly version: number;
  readonly backboneId: string;
  readonly offsets: Readonly<Record<string, string>>;
  readonly examplesTrained: number;
  readonly figures: Readonly<Record<string, number | null>>;
  readonly newestEventTs: number | null;
  /** Epoch ms the updater published it; null for the built-in frozen model. */
  readonly publishedAt: number | null;
  /** Epoch ms this replica swapped it in. */
  readonly appliedAt: number;
}

/**
 * One immutable model version: the shared frozen backbone plus one loaded adaptation (with its
 * own item catalogue, so side-item slots match the snapshot it came from) plus its metadata.
 * Nothing in it changes after construction; a newer version is a new LiveModel.
 *
 * With a runner, a method whose user state depends only on the backbone's outputs (`ladder`,
 * `frozen`) is also given a `PlainScorer`: its weights copied out of TF.js once, here, so requests
 * are answered from typed arrays (see recommender.ts). Other methods score through TF.js.
 *
 * The only mutable part is the lease count, which decides when its TF.js tensors may be freed:
 * a retired model is disposed when its last in-flight request releases it, never under one.
 */
export class LiveModel {
  readonly meta: LiveModelMeta;
  readonly adaptation: AdaptationMethod;
  /** The fast path: the shared backbone runner and this version's plain-array scorer. */
  readonly fast: { readonly runner: BackboneRunner; readonly scorer: PlainScorer; readonly ranked?: { ranker: ItemRanker; table: RankerTable } } | undefined;
  /**
   * The verified snapshot this version was built from (undefined for start-up placeholders): a
   * rollback republishes its parameters and offsets as a new record, so it is kept as it came.
   */
  readonly source: AdapterSnapshot | undefined;
  /** The weight this version gives the co-visit memory (0 for frozen and before any training). */
  readonly memoryWeight: number;
  #leases = 0;
  #retired = false;
  #disposed = false;
  readonly #onDispose: ((model: LiveModel, deferred: boolean) => void) | undefined;

  constructor(meta: LiveModelMeta, adaptation: AdaptationMethod, options: { onDispose?: (model: LiveModel, deferred: boolean) => void; fast?: FastPath; source?: AdapterSnapshot } = {}) {
    this.meta = Object.freeze({ ...meta, offsets: Object.freeze({ ...meta.offsets }), figures: Object.freeze({ ...meta.figures }) });
    this.adaptation = adaptation;
    this.source = options.source;
    this.memoryWeight = tf.tidy(() => adaptation.coVisitWeight().dataSync()[0] ?? 0);
    this.#onDispose = options.onDispose;
    const { fast } = options;
    const scorer = fast === undefined ? undefined : PlainScorer.of(adaptation);
    if (fast === undefined || scorer === undefined) this.fast = undefined;
    else if (fast.ranker === undefined) this.fast = { runner: fast.runner, scorer };
    else this.fast = { runner: fast.runner, scorer, ranked: { ranker: fast.ranker, table: fast.ranker.table(scorer.itemTable, scorer.itemBias) } };
  }

  get inFlight(): number {
    return this.#leases;
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  get isRetired(): boolean {
    return this.#retired;
  }

  /** Synchronous on purpose: reading the registry's reference and taking a lease happen in one tick. */
  acquire(): void {
    if (this.#disposed) throw new Error(`model ${this.meta.variant} v${this.meta.version} used after dispose`);
    this.#leases++;
  }

  release(): void {
    if (this.#leases <= 0) throw new Error(`model ${this.meta.variant} v${this.meta.version} released more often than acquired`);
    this.#leases--;
    if (this.#retired && this.#leases === 0) this.#dispose(true);
  }

  /** No new request will get this model; free its tensors now or when the last lease ends. */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    if (this.#leases === 0) this.#dispose(false);
  }

  #dispose(deferred: boolean): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // The backbone is shared by every version and owned by whoever loaded it: only the
    // adaptation's own variables (and side tables) are freed here.
    this.adaptation.dispose();
    this.#onDispose?.(this, deferred);
  }
}
