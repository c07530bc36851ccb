import type { AdapterSnapshot, SnapshotMeta } from '@reco/stream';
import { fromMessageParts, isMethodName, toMessageParts, type SerializedAdaptation } from './model-api.js';

/**
 * An adaptation (the model package's SerializedAdaptation) inside a wire snapshot (the stream
 * package's AdapterSnapshot). The layout itself (`meta.method`, and `meta.config` =
 * { options, sideCapacity, sideItemIds }) is the model package's `toMessageParts` /
 * `fromMessageParts`, the pair the updater publishes with, so the two services cannot drift.
 * What serving adds is the classification of what is wrong, for the refusal metric.
 */
export function toAdapterSnapshot(meta: Omit<SnapshotMeta, 'method' | 'config'>, adaptation: SerializedAdaptation): AdapterSnapshot {
  const parts = toMessageParts(adaptation);
  return {
    meta: { ...meta, method: parts.method, config: parts.config },
    tensors: parts.tensors.map((t) => ({ name: t.name, shape: [...t.shape], values: t.values })),
  };
}

/** The adaptation a snapshot carries, or why its `meta` cannot describe one. */
export function toSerializedAdaptation(
  snapshot: AdapterSnapshot,
): { ok: true; value: SerializedAdaptation } | { ok: false; reason: 'unknown_method' | 'malformed'; message: string } {
  const { method, config } = snapshot.meta;
  if (typeof method !== 'string' || !isMethodName(method)) return { ok: false, reason: 'unknown_method', message: `unknown adaptation method ${JSON.stringify(method)}` };
  if (typeof config !== 'object' || config === null) return { ok: false, reason: 'malformed', message: 'meta.config is missing' };
  let value: SerializedAdaptation;
  try {
    value = fromMessageParts({ method, config, tensors: snapshot.tensors });
  } catch (error) {
    return { ok: false, reason: 'malformed', message: (error as Error).message };
  }
  // Stricter than the codec pair, because these values size tables serving is about to allocate.
  if (Object.values(value.options).some((v) => !Number.isFinite(v))) return { ok: false, reason: 'malformed', message: 'meta.config.options holds a non-finite number' };
  if (value.sideItemIds.length > value.sideCapacity) {
    return { ok: false, reason: 'malformed', message: `meta.config lists ${value.sideItemIds.length} side items for a side table of ${value.sideCapacity}` };
  }
  return { ok: true, value };
}
