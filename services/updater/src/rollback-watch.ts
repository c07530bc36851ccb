import { readSnapshot, type AdapterSnapshot, type RollbackNote, type SnapshotExpectations, type SnapshotRefusal, type SnapshotTrust } from '@reco/model';

export interface RollbackWatchOptions {
  trust: SnapshotTrust;
  /** The updater's own variants, methods, backbone and side capacity (those of its resume check). */
  expect: SnapshotExpectations;
  /** Serving's RECO_SNAPSHOT_MAX_VERSION_JUMP (default 10,000, serving's). */
  maxVersionJump?: number;
  /** The version a variant's parameters were last built from (resumed or adopted; 0 at identity). */
  basis(variant: string): number;
}

export type Watched =
  | { kind: 'adopt'; variant: string; version: number; snapshot: AdapterSnapshot; note: RollbackNote }
  | { kind: 'seen'; variant: string; version: number }
  | { kind: 'refused'; variant: string; version: number | undefined; reason: SnapshotRefusal; message: string };

/**
 * What the updater makes of each record of reco.adapters, read in log order from the start of the
 * (compacted) topic: the same verification and the same version rule as every serving replica
 * (newer than the newest verified record before it, not implausibly far ahead), so it knows which
 * records the replicas apply. A rollback record they apply is adopted unless the variant's
 * parameters already come from it or from something later (the record a restart resumed from).
 *
 * "Applied by the replicas", not "newer than the updater's own version": the updater may have
 * published a version of its own after the record but before reading it. The replicas then
 * answer with that one for a moment, and adopting the record still brings them back to the
 * restored parameters with the updater's next snapshot, instead of losing the rollback.
 */
export class RollbackWatch {
  readonly #o: RollbackWatchOptions;
  /** Newest verified version per variant in log order: what serving's replicas have applied. */
  readonly #newest = new Map<string, number>();

  constructor(options: RollbackWatchOptions) {
    this.#o = options;
  }

  /** One record (value, key) of the adapters topic; undefined for tombstones and other services' variants. */
  offer(value: Buffer | null, key: Buffer | null): Watched | undefined {
    if (value === null) return undefined;
    const versions = { newest: (variant: string) => this.#newest.get(variant), maxJump: this.#o.maxVersionJump ?? 10_000 };
    const read = readSnapshot(value, key, this.#o.trust, { ...this.#o.expect, versions });
    if (!read.ok) return read.reason === 'unknown_variant' ? undefined : { kind: 'refused', variant: read.variant, version: read.version, reason: read.reason, message: read.message };
    this.#newest.set(read.variant, read.version);
    const note = read.snapshot.meta.rollback;
    if (note === undefined || read.version <= this.#o.basis(read.variant)) return { kind: 'seen', variant: read.variant, version: read.version };
    return { kind: 'adopt', variant: read.variant, version: read.version, snapshot: read.snapshot, note };
  }
}
