import { sendWithinLimit, type Producer, type TopicSpec } from '@reco/stream';
import { ServingError } from './errors.js';
import type { LiveModels } from './live-models.js';
import { adaptationOf, buildSnapshot, sealSnapshot, type AdapterSnapshot, type RollbackNote, type SnapshotTrust } from './model-api.js';
import type { SnapshotApplier } from './snapshot-applier.js';

export interface RollbackRecordOptions {
  models: LiveModels;
  /** Connected producer (the app's); the record goes to `adapters`, keyed by variant. */
  producer: Producer;
  adapters: TopicSpec;
  /** The shared key (insecure: the record goes unsigned, as the updater's snapshots do). */
  trust: SnapshotTrust;
  /** This replica's applier, fed by its own snapshot consumer: the rollback is done once it applied the record. */
  applier: Pick<SnapshotApplier, 'waitFor'>;
  /** RECO_ROLLBACK_TIMEOUT_MS. */
  timeoutMs: number;
  now?: () => number;
}

export interface RollbackDone {
  variant: string;
  /** The record's version: what answers now. */
  version: number;
  /** The version that answered before (withdrawn). */
  rolledBackFrom: number;
  /** The version whose parameters, offsets and figures answer again. */
  restores: number;
}

/**
 * A rollback as a record on reco.adapters, so that every replica and the updater hear of it (see
 * docs/snapshots.md, "Rollback"): the previous version's verified snapshot, as this replica kept
 * it (`LiveModel.source`), published again under the next version with `meta.rollback`, through
 * the snapshot owner of @reco/model. It counts as done once this replica's own snapshot consumer
 * has applied it: then it is in the log, and every replica applies it at the same place in it.
 *
 * A newer snapshot that reaches the topic first wins (the record is then stale everywhere): the
 * caller is told so, never that a rollback happened that no replica applied.
 */
export class RollbackRecords {
  readonly #o: RollbackRecordOptions;
  readonly #now: () => number;

  constructor(options: RollbackRecordOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** The record that would roll `variant` back now, with the note it carries. */
  record(variant: string): { snapshot: AdapterSnapshot; note: RollbackNote } {
    const { models } = this.#o;
    const current = models.current(variant);
    if (current === undefined) throw new ServingError('RECO_ERR_UNKNOWN_VARIANT', `variant "${variant}" is not live`);
    const previous = models.previous(variant);
    if (previous?.source === undefined) {
      throw new ServingError('RECO_ERR_NO_PREVIOUS_VERSION', `variant "${variant}" has no previous version to roll back to (live: v${current.meta.version})`);
    }
    const at = this.#now();
    const note: RollbackNote = { from: current.meta.version, restores: previous.meta.version, at };
    const { method: _method, config: _config, ...stamp } = previous.source.meta;
    // Numbered after everything this replica has applied, so it is the newest record of the variant.
    const version = (models.newestVersion(variant) ?? current.meta.version) + 1;
    return { snapshot: buildSnapshot({ ...stamp, version, publishedAt: at, rollback: note }, adaptationOf(previous.source)), note };
  }

  /** Publishes the record and waits until this replica applied it. */
  async rollback(variant: string): Promise<RollbackDone> {
    const { producer, adapters, trust, applier, timeoutMs } = this.#o;
    const { snapshot, note } = this.record(variant);
    const { version } = snapshot.meta;
    // Waiting from before the produce: a consumer that is quick could apply it before the ack.
    const gaveUp = new AbortController();
    const applied = applier.waitFor(variant, version, timeoutMs, { accept: (outcome) => outcome.applied, signal: gaveUp.signal });
    try {
      await sendWithinLimit(producer, adapters, [{ key: variant, value: sealSnapshot(snapshot, trust) }]);
    } catch (error) {
      gaveUp.abort();
      throw new ServingError('RECO_ERR_KAFKA_UNAVAILABLE', `Kafka did not acknowledge the rollback record of ${variant} (v${version}, restoring v${note.restores}); nothing was rolled back, retry`, { cause: error });
    }
    const outcome = await applied;
    if (outcome === undefined) {
      throw new ServingError('RECO_ERR_ROLLBACK_TIMEOUT', `the rollback record of ${variant} (v${version}, restoring v${note.restores}) is published, but this replica had not applied it after ${timeoutMs} ms`);
    }
    if (!outcome.applied || !sameNote(outcome.rollback, note)) {
      throw new ServingError('RECO_ERR_ROLLBACK_SUPERSEDED', `v${outcome.version ?? version} of ${variant} reached the topic before the rollback record (v${version}), which is refused as stale: nothing was rolled back`);
    }
    return { variant, version, rolledBackFrom: note.from, restores: note.restores };
  }
}

function sameNote(a: RollbackNote | undefined, b: RollbackNote): boolean {
  return a !== undefined && a.from === b.from && a.restores === b.restores && a.at === b.at;
}
