import type { Kafka } from 'kafkajs';
import type { ConsumerHealth } from './consumer-health.js';
import type { TopicConsumer } from './topic-consumer.js';

/**
 * The end offset of every non-empty partition of `topic` as of now: what a reader of a compacted
 * topic must reach to hold at least everything that existed when it started. Fails like any admin
 * call (wrap it in withRetries at start-up).
 */
export async function endOffsetsNow(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Whether a reader has reached the end offsets a topic had when it started. `passed` is told each
 * offset handled; offsets of compacted-away records never arrive, so a partition is done at or past
 * its end - 1. Nothing counts as caught up before `arm()` (the reader has joined and is
 * positioned), so an empty topic is not "caught up" by a reader that never connected.
 */
export class CatchUp {
  readonly whenCaughtUp: Promise<void>;
  readonly #pending: Map<number, bigint>;
  readonly #onCaughtUp: () => void;
  #resolve: () => void = () => undefined;
  #armed = false;
  #done = false;

  constructor(ends: ReadonlyMap<number, bigint>, onCaughtUp: () => void = () => undefined) {
    this.#pending = new Map(ends);
    this.#onCaughtUp = onCaughtUp;
    this.whenCaughtUp = new Promise<void>((resolve) => (this.#resolve = resolve));
  }

  get caughtUp(): boolean {
    return this.#done;
  }

  passed(partition: number, offset: bigint): void {
    const end = this.#pending.get(partition);
    if (end !== undefined && offset + 1n >= end) this.#pending.delete(partition);
    this.#check();
  }

  arm(): void {
    this.#armed = true;
    this.#check();
  }

  #check(): void {
    if (this.#done || !this.#armed || this.#pending.size > 0) return;
    this.#done = true;
    this.#onCaughtUp();
    this.#resolve();
  }
}

/** A replica's reader of a compacted topic: its health, and whether it holds the topic as of start. */
export interface CatchingUpReader {
  readonly caughtUp: boolean;
  readonly whenCaughtUp: Promise<void>;
  /** Running, reconnecting (after a broker restart, by itself) or failed: readiness reports it. */
  health(): ConsumerHealth;
  stop(): Promise<void>;
}

/** Waits for `consumer` to join (stopping it if it never does), then arms `catchUp` and returns the reader. */
export async function joinedReader(consumer: TopicConsumer, catchUp: CatchUp): Promise<CatchingUpReader> {
  try {
    await consumer.ready;
  } catch (error) {
    await consumer.stop().catch(() => undefined);
    throw error;
  }
  catchUp.arm();
  return {
    get caughtUp() {
      return catchUp.caughtUp;
    },
    whenCaughtUp: catchUp.whenCaughtUp,
    health: () => consumer.health(),
    stop: () => consumer.stop(),
  };
}
