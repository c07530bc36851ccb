import type { SerializedAdaptation } from '../adaptation/adaptation-method.js';
import { checkSnapshot, type ContentRefusal, type SnapshotExpectations } from './snapshot-content.js';
import type { SnapshotTrust } from './snapshot-key.js';
import { openSnapshot, type AdapterSnapshot, type OpenRefusal } from './snapshot-wire.js';

/** Every reason a snapshot message is refused: the closed `reason` label set of the refusal metrics. */
export type SnapshotRefusal = OpenRefusal | ContentRefusal;

export const SNAPSHOT_REFUSALS: readonly SnapshotRefusal[] = Object.freeze([
  'unsigned',
  'bad_signature',
  'corrupt',
  'malformed',
  'unknown_variant',
  'unknown_method',
  'method_mismatch',
  'backbone_mismatch',
  'stale_version',
  'version_jump',
  'capacity_exceeded',
  'shape_mismatch',
  'non_finite',
]);

export type ReadSnapshot =
  | { ok: true; snapshot: AdapterSnapshot; adaptation: SerializedAdaptation; variant: string; version: number; tag: string | undefined }
  | { ok: false; variant: string; version: number | undefined; reason: SnapshotRefusal; message: string };

/**
 * The one way to read a snapshot message: verify (signature before anything is parsed), decode,
 * then check against the reader's configuration. `key` is the Kafka message key: compaction keeps
 * one record per key, so a record whose key and variant differ would hide another variant's.
 */
export function readSnapshot(value: Buffer | null, key: Buffer | null, trust: SnapshotTrust, expect: SnapshotExpectations): ReadSnapshot {
  const keyVariant = key?.toString('utf8') ?? 'unknown';
  const opened = openSnapshot(value, trust);
  if (!opened.ok) return { ok: false, variant: keyVariant, version: undefined, reason: opened.reason, message: opened.message };
  const { snapshot } = opened;
  if (key !== null && snapshot.meta.variant !== keyVariant) {
    return { ok: false, variant: keyVariant, version: undefined, reason: 'malformed', message: `message key ${keyVariant} differs from meta.variant ${String(snapshot.meta.variant)}` };
  }
  const checked = checkSnapshot(snapshot, expect);
  if (!checked.ok) return checked;
  return { ok: true, snapshot, adaptation: checked.adaptation, variant: checked.variant, version: checked.version, tag: opened.tag };
}
