import { isMethodName, type MethodName, type SerializedAdaptation } from '../adaptation/adaptation-method.js';
import { CO_VISIT_WEIGHT, SIDE_BIAS, SIDE_EMBEDDING } from '../side-items.js';
import type { AdapterSnapshot, SnapshotMeta } from './snapshot-wire.js';

/**
 * What a snapshot carries besides its wire framing: an adaptation (SerializedAdaptation) whose
 * tensors travel as they are and whose shape-deciding settings (method options, side capacity,
 * side items in slot order) go in `meta.config`. The updater builds with `buildSnapshot`; serving
 * and a restarting updater read with `checkSnapshot`, so the two cannot drift apart.
 */
export type SnapshotStamp = Omit<SnapshotMeta, 'method' | 'config'>;

export function buildSnapshot(stamp: SnapshotStamp, adaptation: SerializedAdaptation): AdapterSnapshot {
  return {
    meta: {
      ...stamp,
      method: adaptation.method,
      config: { options: { ...adaptation.options }, sideCapacity: adaptation.sideCapacity, sideItemIds: [...adaptation.sideItemIds] },
    },
    tensors: adaptation.tensors.map((t) => ({ name: t.name, shape: [...t.shape], values: t.values })),
  };
}

/** Why a verified snapshot is still not applied or resumed from: the rest of the refusal labels. */
export type ContentRefusal =
  | 'malformed'
  | 'unknown_variant'
  | 'unknown_method'
  | 'method_mismatch'
  | 'backbone_mismatch'
  | 'stale_version'
  | 'version_jump'
  | 'capacity_exceeded'
  | 'shape_mismatch'
  | 'non_finite';

/** What the reader's own configuration says a variant's snapshots must look like. */
export interface VariantBounds {
  readonly method: MethodName;
  /**
   * The method options the reader builds the variant with (rank, width...): they decide every
   * tensor's shape, so a snapshot must carry exactly these. Undefined skips the check (a reader
   * that never built the method, e.g. the updater reading an old one before it creates its own).
   */
  readonly options?: Readonly<Record<string, number>>;
  /** The largest side table (new-item slots) the reader will allocate. */
  readonly maxSideCapacity: number;
}

export interface SnapshotExpectations {
  readonly backboneId: string;
  /** Items in the backbone's vocabulary and its width: the side tensors' shapes follow from them. */
  readonly itemCount: number;
  readonly dim: number;
  /** Only these variants are applied or resumed from. */
  readonly variants: ReadonlyMap<string, VariantBounds>;
  /** Version checks (serving): newest applied per variant, and how far ahead of it a snapshot may be. */
  readonly versions?: { newest(variant: string): number | undefined; readonly maxJump: number };
}

/** The expectations every reader of one backbone shares: its id and the side tensors' shapes, for `variants`. */
export function expectationsFor(
  checkpoint: { readonly backboneId: string; readonly itemIds: readonly string[]; readonly backbone: { readonly config: { readonly dim: number } } },
  variants: ReadonlyMap<string, VariantBounds>,
): SnapshotExpectations {
  return { backboneId: checkpoint.backboneId, itemCount: checkpoint.itemIds.length, dim: checkpoint.backbone.config.dim, variants };
}

export type CheckedSnapshot =
  | { ok: true; variant: string; version: number; adaptation: SerializedAdaptation }
  | { ok: false; variant: string; version: number | undefined; reason: ContentRefusal; message: string };

const VARIANT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Every check a verified snapshot passes before anyone builds from it, cheapest first, so a
 * message claiming a huge table is refused before anything is allocated. Never throws.
 */
export function checkSnapshot(snapshot: AdapterSnapshot, expect: SnapshotExpectations): CheckedSnapshot {
  const { meta } = snapshot;
  const variant = typeof meta.variant === 'string' && VARIANT_NAME.test(meta.variant) ? meta.variant : 'unknown';
  const refuse = (reason: ContentRefusal, message: string, version?: number): CheckedSnapshot => ({ ok: false, variant, version, reason, message });
  if (variant === 'unknown') return refuse('malformed', `meta.variant ${JSON.stringify(meta.variant)} is not a variant name`);
  const version = meta.version;
  if (!Number.isSafeInteger(version) || version < 1) return refuse('malformed', `meta.version ${JSON.stringify(version)} is not a positive integer`);
  const bounds = expect.variants.get(variant);
  if (bounds === undefined) return refuse('unknown_variant', `variant ${variant} is not configured here (configured: ${[...expect.variants.keys()].join(', ')})`, version);
  if (meta.backboneId !== expect.backboneId) return refuse('backbone_mismatch', `trained against backbone ${String(meta.backboneId).slice(0, 16)}, this service runs ${expect.backboneId.slice(0, 16)}`, version);
  if (expect.versions !== undefined) {
    const newest = expect.versions.newest(variant);
    if (newest !== undefined && version <= newest) return refuse('stale_version', `version ${version} is not newer than ${newest}, the newest applied for ${variant}`, version);
    // Only against a published version: a replica reading the compacted log from its start sees a
    // variant's latest version first, however high, and version 0 is the start-up placeholder.
    if (newest !== undefined && newest > 0 && version - newest > expect.versions.maxJump) {
      return refuse('version_jump', `version ${version} is ${version - newest} ahead of the live ${newest}; at most ${expect.versions.maxJump} is plausible`, version);
    }
  }
  const { method, config } = meta;
  if (typeof method !== 'string' || !isMethodName(method)) return refuse('unknown_method', `unknown adaptation method ${JSON.stringify(method)}`, version);
  if (method !== bounds.method) return refuse('method_mismatch', `variant ${variant} is configured as ${bounds.method}, the snapshot is ${method}`, version);
  const parsed = parseConfig(method, config);
  if (typeof parsed === 'string') return refuse('malformed', parsed, version);
  if (parsed.sideCapacity > bounds.maxSideCapacity) {
    return refuse('capacity_exceeded', `side table of ${parsed.sideCapacity} slots; this service allows at most ${bounds.maxSideCapacity}`, version);
  }
  if (bounds.options !== undefined) {
    const want = bounds.options;
    const keys = new Set([...Object.keys(want), ...Object.keys(parsed.options)]);
    for (const key of keys) {
      if (parsed.options[key] !== want[key]) return refuse('shape_mismatch', `option ${key}=${String(parsed.options[key])}, this service builds ${method} with ${String(want[key])}`, version);
    }
  }
  const sideShapes: Record<string, number[]> = {
    [SIDE_EMBEDDING]: [parsed.sideCapacity, expect.dim],
    [SIDE_BIAS]: [expect.itemCount + 2 + parsed.sideCapacity],
    [CO_VISIT_WEIGHT]: [1],
  };
  const names = new Set<string>();
  for (const t of snapshot.tensors) {
    if (names.has(t.name)) return refuse('malformed', `tensor ${t.name} appears twice`, version);
    names.add(t.name);
    const want = sideShapes[t.name];
    if (want !== undefined && t.shape.join('x') !== want.join('x')) return refuse('shape_mismatch', `tensor ${t.name} has shape [${t.shape.join(', ')}], expected [${want.join(', ')}]`, version);
    const bad = t.values.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) return refuse('non_finite', `tensor ${t.name} holds ${String(t.values[bad])} at index ${bad}`, version);
  }
  for (const name of Object.keys(sideShapes)) if (!names.has(name)) return refuse('shape_mismatch', `tensor ${name} is missing`, version);
  return { ok: true, variant, version, adaptation: { method, ...parsed, tensors: snapshot.tensors } };
}

/**
 * The adaptation a snapshot carries, for a reader that has already checked it (or built it: the
 * tests that compare serving with an offline restore). Throws on a config that cannot be one.
 */
export function adaptationOf(snapshot: AdapterSnapshot): SerializedAdaptation {
  const { method, config } = snapshot.meta;
  if (typeof method !== 'string' || !isMethodName(method)) throw new Error(`snapshot names unknown method ${JSON.stringify(method)}`);
  const parsed = parseConfig(method, config);
  if (typeof parsed === 'string') throw new Error(parsed);
  return { method, ...parsed, tensors: snapshot.tensors };
}

function parseConfig(method: MethodName, config: unknown): Omit<SerializedAdaptation, 'method' | 'tensors'> | string {
  if (typeof config !== 'object' || config === null) return 'meta.config is missing';
  const { options, sideCapacity, sideItemIds } = config as Record<string, unknown>;
  if (typeof options !== 'object' || options === null || Object.values(options).some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    return `meta.config.options of ${method} must be an object of finite numbers`;
  }
  if (typeof sideCapacity !== 'number' || !Number.isSafeInteger(sideCapacity) || sideCapacity < 0) return 'meta.config.sideCapacity must be a non-negative integer';
  if (!Array.isArray(sideItemIds) || sideItemIds.some((id) => typeof id !== 'string')) return 'meta.config.sideItemIds must be an array of item ids';
  if (sideItemIds.length > sideCapacity) return `meta.config lists ${sideItemIds.length} side items for a side table of ${sideCapacity}`;
  if (new Set(sideItemIds).size !== sideItemIds.length) return 'meta.config.sideItemIds lists an item twice';
  return { options: { ...(options as Record<string, number>) }, sideCapacity, sideItemIds: [...(sideItemIds as string[])] };
}
