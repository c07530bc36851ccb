import { sendWithinLimit, type Producer, type TopicSpec } from '@reco/stream';
import { ServingError } from './errors.js';
import type { ItemDirectory, ItemPatch, ItemRecord } from './item-directory.js';
import { encodeItemRecord } from './item-records.js';

export interface ItemWriterOptions {
  producer: Producer;
  topic: TopicSpec;
  directory: ItemDirectory;
  now?: () => number;
}

/**
 * Catalogue writes (PUT /v1/items/:itemId). The write is produced to `reco.items` as the item's
 * whole new record, acknowledged by every in-sync replica, and only then applied here, at the offset
 * the broker gave it: the writing replica answers with what it now serves, and every other replica
 * gets the same record from the topic. Writes of one item on one replica run one after the other,
 * each merged into what the previous one left (concurrent PUTs of the title and of availability
 * both stick). Concurrent writes of one item on different replicas each start from their replica's
 * view; the later one in the topic wins everywhere.
 */
export class ItemWriter {
  readonly #options: ItemWriterOptions;
  /** The write of each item in flight here, which the next write of that item waits for. */
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(options: ItemWriterOptions) {
    this.#options = options;
  }

  async put(itemId: string, patch: ItemPatch): Promise<ItemRecord> {
    const previous = this.#inFlight.get(itemId) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(() => this.#write(itemId, patch));
    this.#inFlight.set(itemId, write);
    try {
      return await write;
    } finally {
      if (this.#inFlight.get(itemId) === write) this.#inFlight.delete(itemId);
    }
  }

  async #write(itemId: string, patch: ItemPatch): Promise<ItemRecord> {
    const { producer, topic, directory } = this.#options;
    const record = directory.merged(itemId, patch, (this.#options.now ?? Date.now)());
    let offset: string | undefined;
    try {
      const [metadata] = await sendWithinLimit(producer, topic, [{ key: itemId, value: encodeItemRecord(record) }], { acks: -1 });
      offset = metadata?.baseOffset;
    } catch (cause) {
      // As for events: the client learns nothing was written; the broker's error stays in the log.
      throw new ServingError('RECO_ERR_KAFKA_UNAVAILABLE', `Kafka did not acknowledge the write of item ${itemId}; nothing changed, retry`, { cause });
    }
    // Without an offset (never with acks from all replicas) the consumer applies it moments later.
    if (offset !== undefined) directory.apply(record, BigInt(offset));
    return record;
  }
}
