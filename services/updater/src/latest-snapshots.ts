import { readSnapshot, type AdapterSnapshot, type SnapshotExpectations, type SnapshotRefusal, type SnapshotTrust } from '@reco/model';
import { readToEnd, withRetries, type Kafka, type Logger } from '@reco/stream';

/** What the updater accepts to resume from: its key, its configured variants, its backbone. */
export interface ResumeCheck {
  trust: SnapshotTrust;
  expect: SnapshotExpectations;
  /**
   * How far ahead of the variant's previous record (in log order) a version may jump: serving's
   * RECO_SNAPSHOT_MAX_VERSION_JUMP rule, so the updater never resumes from a record serving would
   * refuse (it would then publish versions serving refuses for good). Default 10,000, serving's.
   */
  maxVersionJump?: number;
  /** Called for each record that cannot be resumed from (for reco_updater_snapshots_skipped_total). */
  onSkip?: (variant: string, reason: SnapshotRefusal) => void;
}

/**
 * The newest snapshot of each configured variant on the (compacted) adapters topic that the
 * snapshot owner verifies and that fits this updater (signature, variant, method, backbone,
 * shapes, version newer than the last and not implausibly far ahead), as of now. Until the cleaner
 * runs, older versions of a key are still in the log; they come first, and a replayed one is stale.
 *
 * A record that fails verification or does not fit (forged, unsigned, another backbone, another
 * method) is skipped with a warning and a count, never a reason to stop: refusing to start over it
 * would stop training for every variant, on every restart, until someone deleted it. The newest
 * one that does verify is resumed from, or the variant starts at identity.
 *
 * The read is retried from scratch on transient failures (a first start right after the broker
 * came up once crashed the updater on NOT_LEADER_FOR_PARTITION here).
 */
export async function readLatestSnapshots(kafka: Kafka, topic: string, logger: Logger, check: ResumeCheck): Promise<Map<string, AdapterSnapshot>> {
  return withRetries(
    'reading the latest snapshots',
    async () => {
      const latest = new Map<string, AdapterSnapshot>();
      const skipped: Array<{ variant: string; reason: SnapshotRefusal }> = [];
      await readToEnd(kafka, topic, (message, partition) => {
        if (message.value === null) return; // a tombstone: the variant was retired
        // The same version rule as serving, in the same (log) order: a replayed older record is
        // stale, an implausible jump is refused, so both services agree on what the latest is.
        const versions = { newest: (variant: string) => latest.get(variant)?.meta.version, maxJump: check.maxVersionJump ?? 10_000 };
        const read = readSnapshot(message.value, message.key, check.trust, { ...check.expect, versions });
        if (!read.ok) {
          // Other services' variants share the topic: not this updater's business, not a warning.
          if (read.reason === 'unknown_variant') return;
          const variant = check.expect.variants.has(read.variant) ? read.variant : 'other';
          skipped.push({ variant, reason: read.reason });
          logger.warn({ partition, offset: message.offset, variant: read.variant, version: read.version, reason: read.reason, detail: read.message }, 'skipping a snapshot that cannot be resumed from');
          return;
        }
        latest.set(read.variant, read.snapshot);
      });
      // Counted once the read succeeded, so a retried read does not count a record twice.
      for (const { variant, reason } of skipped) check.onSkip?.(variant, reason);
      return latest;
    },
    { logger },
  );
}
