/**
 * Every topic the product uses, with the settings it is created with. Services and tests take
 * names from here (tests add a unique prefix so they cannot see each other's messages).
 */
export interface TopicSpec {
  readonly name: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  /** Topic-level configs, exactly as Kafka names them. */
  readonly configs: Readonly<Record<string, string>>;
  /** The largest record batch the broker accepts for this topic (its max.message.bytes). */
  readonly maxMessageBytes: number;
}

export interface TopicNames {
  readonly events: string;
  readonly deadLetter: string;
  readonly adapters: string;
  readonly items: string;
  /** The updaters' lease (services/updater/src/lease.ts): group membership only, nothing is written. */
  readonly lease: string;
}

export const DEFAULT_TOPIC_NAMES: TopicNames = Object.freeze({
  events: 'reco.events',
  deadLetter: 'reco.events.dlq',
  adapters: 'reco.adapters',
  items: 'reco.items',
  lease: 'reco.updater.lease',
});

/**
 * Adaptation snapshots are published as one message each. The largest one we publish is the
 * `full` fine-tuning baseline, which carries a copy of every backbone tensor: about
 * 4 bytes x (items x d + the blocks), i.e. ~1 MB for the default synthetic backbone and ~7 MB
 * for a 27k-item MovieLens catalogue at d = 64. Ladder/LoRA/BitFit snapshots are tens of KB.
 * 16 MiB keeps every variant well under the limit; the broker default (1 MiB) would not.
 */
export const ADAPTER_SNAPSHOT_MAX_BYTES = 16 * 1024 * 1024;

/** Events are a few hundred bytes; 1 MiB is Kafka's default and leaves room for producer batches. */
export const EVENT_MAX_BYTES = 1024 * 1024;

/**
 * An item record (id, title, categories, availability) is at most a few tens of KB under serving's
 * API limits; Kafka's default 1 MiB leaves room for batches of them.
 */
export const ITEM_MAX_BYTES = 1024 * 1024;

/** The lease topic carries no records; Kafka's default limit. */
export const LEASE_MAX_BYTES = 1024 * 1024;

export interface TopicOptions {
  names?: Partial<TopicNames>;
  /** Partitions of the events topic; events are keyed by userId, so this bounds updater parallelism. */
  eventPartitions?: number;
  replicationFactor?: number;
}

export function topicNames(prefix = '', names: Partial<TopicNames> = {}): TopicNames {
  return Object.freeze({
    events: names.events ?? `${prefix}${DEFAULT_TOPIC_NAMES.events}`,
    deadLetter: names.deadLetter ?? `${prefix}${DEFAULT_TOPIC_NAMES.deadLetter}`,
    adapters: names.adapters ?? `${prefix}${DEFAULT_TOPIC_NAMES.adapters}`,
    items: names.items ?? `${prefix}${DEFAULT_TOPIC_NAMES.items}`,
    lease: names.lease ?? `${prefix}${DEFAULT_TOPIC_NAMES.lease}`,
  });
}

export function topicSpecs(options: TopicOptions & { prefix?: string } = {}): {
  events: TopicSpec;
  deadLetter: TopicSpec;
  adapters: TopicSpec;
  items: TopicSpec;
  lease: TopicSpec;
} {
  const names = topicNames(options.prefix, options.names);
  const replicationFactor = options.replicationFactor ?? 1;
  const days = (n: number): string => String(n * 24 * 3600 * 1000);
  return {
    events: {
      name: names.events,
      numPartitions: options.eventPartitions ?? 6,
      replicationFactor,
      maxMessageBytes: EVENT_MAX_BYTES,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': days(7), 'max.message.bytes': String(EVENT_MAX_BYTES) },
    },
    deadLetter: {
      name: names.deadLetter,
      numPartitions: 1,
      replicationFactor,
      maxMessageBytes: EVENT_MAX_BYTES,
      // Longer than the events topic: somebody has to look at these before they age out.
      configs: { 'cleanup.policy': 'delete', 'retention.ms': days(30), 'max.message.bytes': String(EVENT_MAX_BYTES) },
    },
    adapters: {
      name: names.adapters,
      // One partition keeps snapshot versions of a variant in one total order for every replica.
      numPartitions: 1,
      replicationFactor,
      maxMessageBytes: ADAPTER_SNAPSHOT_MAX_BYTES,
      configs: {
        // Keyed by variant: compaction keeps the latest snapshot of each one forever.
        'cleanup.policy': 'compact',
        'max.message.bytes': String(ADAPTER_SNAPSHOT_MAX_BYTES),
        // Roll segments hourly so superseded snapshots become compactable instead of piling up
        // in the active segment.
        'segment.ms': String(3600 * 1000),
        'min.cleanable.dirty.ratio': '0.1',
      },
    },
    items: {
      name: names.items,
      // One partition: every replica reads the catalogue's writes in one order, and the volume
      // (one record per catalogue change) never needs more.
      numPartitions: 1,
      replicationFactor,
      maxMessageBytes: ITEM_MAX_BYTES,
      configs: {
        // Keyed by item id: compaction keeps each item's latest record, so the topic stays the size
        // of the catalogue and a starting replica reads the whole catalogue from the beginning.
        'cleanup.policy': 'compact',
        'max.message.bytes': String(ITEM_MAX_BYTES),
        'segment.ms': String(3600 * 1000),
        'min.cleanable.dirty.ratio': '0.1',
      },
    },
    lease: {
      name: names.lease,
      // One partition: the updaters for a set of variants share one consumer group on it, and the
      // member Kafka assigns this partition to is the active one (the others are standby).
      numPartitions: 1,
      replicationFactor,
      maxMessageBytes: LEASE_MAX_BYTES,
      // Nothing is ever produced to it; a day's retention keeps anything written by hand from staying.
      configs: { 'cleanup.policy': 'delete', 'retention.ms': days(1), 'max.message.bytes': String(LEASE_MAX_BYTES) },
    },
  };
}
