import { errorSummary, sendWithinLimit, type Kafka, type Logger, type Message, type Producer, type TopicSpec } from '@reco/stream';

/** INVALID_PRODUCER_EPOCH (47) or PRODUCER_FENCED (90, unknown to KafkaJS 2.x by name), anywhere in the cause chain. */
export function isProducerFenced(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false;
  const e = error as { type?: unknown; code?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };
  if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED' || e.code === 47 || e.code === 90) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isProducerFenced(inner, depth + 1))) return true;
  return isProducerFenced(e.cause, depth + 1) || isProducerFenced(e.originalError, depth + 1);
}

export class ProducerFencedError extends Error {
  override readonly name = 'ProducerFencedError';
}

/**
 * The transactional id of a variant's snapshots: one per variant and adapters topic, whatever the
 * consumer group or the rest of the variant set, so any two updaters that would publish the same
 * variant fence each other.
 */
export function snapshotTransactionalId(adaptersTopic: string, variant: string): string {
  return `reco-snapshots.${adaptersTopic}.${variant}`;
}

export interface SnapshotPublisherOptions {
  kafka: Kafka;
  topic: TopicSpec;
  variants: readonly string[];
  logger: Logger;
  /** Called once, on the first publish the broker refuses because a newer producer took the id over. */
  onFenced?: (variant: string, error: unknown) => void;
  /** How long the broker lets a transaction stay open before aborting it (a publish takes well under a second). */
  transactionTimeoutMs?: number;
}

/**
 * Publishes each snapshot in a Kafka transaction of its own, with one transactional id per variant.
 * `open()` initialises every id: the broker then aborts any transaction an older holder of the id
 * left open and refuses that holder's every later write (it is fenced). Readers of the adapters
 * topic read committed records only (KafkaJS's default), so a fenced zombie's snapshot never
 * reaches anyone.
 *
 * KafkaJS sends InitProducerId at the first `transaction()`, not at `connect()`: `open()` runs an
 * empty transaction so the fence is up before the new active reads the latest snapshots;
 * otherwise the old updater could still commit one after that read, and the new one would
 * resume from a position behind it (measured on the broker: such a publish was committed).
 */
export class SnapshotPublisher {
  readonly #options: SnapshotPublisherOptions;
  readonly #producers: ReadonlyMap<string, Producer>;
  #fenced = false;

  private constructor(options: SnapshotPublisherOptions, producers: ReadonlyMap<string, Producer>) {
    this.#options = options;
    this.#producers = producers;
  }

  /** Connects one transactional producer per variant and takes every id over (fencing older holders). */
  static async open(options: SnapshotPublisherOptions): Promise<SnapshotPublisher> {
    const producers = new Map<string, Producer>();
    try {
      for (const variant of options.variants) {
        const producer = options.kafka.producer({
          transactionalId: snapshotTransactionalId(options.topic.name, variant),
          transactionTimeout: options.transactionTimeoutMs ?? 30_000,
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
        });
        producers.set(variant, producer);
        await producer.connect();
        await (await producer.transaction()).abort();
      }
    } catch (error) {
      await Promise.all([...producers.values()].map((p) => p.disconnect().catch(() => undefined)));
      throw error;
    }
    options.logger.info({ variants: options.variants, transactionalIds: options.variants.map((v) => snapshotTransactionalId(options.topic.name, v)) }, 'fence up: snapshot transactional ids taken over (an older updater for these variants can publish nothing more)');
    return new SnapshotPublisher(options, producers);
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** One snapshot (keyed by variant), committed in its own transaction; throws ProducerFencedError once fenced. */
  async publish(variant: string, message: Message): Promise<void> {
    const { topic, logger } = this.#options;
    if (this.#fenced) throw new ProducerFencedError('this updater was fenced by a newer one; it publishes nothing more');
    const producer = this.#producers.get(variant);
    if (producer === undefined) throw new Error(`no snapshot producer for variant "${variant}"`);
    let transaction: Awaited<ReturnType<Producer['transaction']>> | undefined;
    try {
      transaction = await producer.transaction();
      await sendWithinLimit(transaction, topic, [message]);
      await transaction.commit();
    } catch (error) {
      if (isProducerFenced(error)) {
        this.#fenced = true;
        logger.error({ variant, topic: topic.name, err: errorSummary(error) }, 'fenced: a newer updater took this variant\'s transactional id over; this one publishes nothing more');
        this.#options.onFenced?.(variant, error);
        throw new ProducerFencedError(`fenced by a newer updater (variant ${variant})`, { cause: error });
      }
      await transaction?.abort().catch(() => undefined);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.#producers.values()].map((p) => p.disconnect().catch(() => undefined)));
  }
}
