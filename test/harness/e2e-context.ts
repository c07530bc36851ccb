import { randomBytes } from 'node:crypto';
import { expectationsFor, METHOD_NAMES, sealSnapshot, snapshotTrust, type AdapterSnapshot, type SnapshotTrust } from '@reco/model';
import { smallWorldFixture, type SmallFixture } from '@reco/model/testing';
import { createKafkaClient, encodeEvent, ensureTopics, readKafkaConfig, sendWithinLimit, silentLogger, topicSpecs, type TopicSpec } from '@reco/stream';
import type { ResumeCheck } from '@reco/updater';
import { testKafkaBrokers, uniqueName } from '@reco/stream/testing';
import type { Kafka, Producer } from 'kafkajs';

/**
 * The updater's gate wide open: for tests that follow versions and counts, where a refused
 * candidate would only delay them (the gate has tests of its own).
 */
export const OPEN_GATE_ENV = { RECO_GATE_MAX_LOSS_INCREASE: '100', RECO_GATE_MAX_RANKING_DROP: '1', RECO_GATE_SHADOW_CLICKS: '0' } as const;

export interface E2eContext {
  fixture: SmallFixture;
  kafka: Kafka;
  producer: Producer;
  brokers: string;
  prefix: string;
  topics: { events: TopicSpec; deadLetter: TopicSpec; adapters: TopicSpec };
  /** The environment both services need to share this test's broker, topics, backbone and snapshot key. */
  env: Record<string, string>;
  /** This test's snapshot signing key (RECO_SNAPSHOT_KEY in `env`), for signing and verifying as the services do. */
  trust: SnapshotTrust;
  /** What the updater checks before resuming (this key, this backbone, a variant per method name), for reading the latest snapshots. */
  resumeCheck: ResumeCheck;
  /** Signs with this test's key and publishes on the adapters topic, as the updater does. */
  publishSnapshot(snapshot: AdapterSnapshot): Promise<void>;
  close(): Promise<void>;
}

/**
 * One test file's world: the small pretrained backbone (cached per machine by the model package),
 * a real broker (the test run's, or `options.brokers` for a test that runs a broker of its own),
 * and topics with a prefix no other test uses.
 */
export async function createE2eContext(label: string, options: { brokers?: string } = {}): Promise<E2eContext> {
  const fixture = await smallWorldFixture();
  const brokers = options.brokers ?? testKafkaBrokers().join(',');
  const kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: brokers }, { defaultClientId: `e2e-${label}` }), silentLogger);
  const prefix = `${uniqueName(label)}.`;
  const topics = topicSpecs({ prefix });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topics.events, topics.deadLetter, topics.adapters]);
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  // A key per test file, as `npm start` makes one per cache folder: services of two tests never
  // accept each other's snapshots.
  const snapshotKey = randomBytes(32).toString('hex');
  const trust = snapshotTrust(snapshotKey, false);
  const { checkpoint } = fixture;
  const resumeCheck: ResumeCheck = {
    trust,
    // Tests name variants after their method (RECO_VARIANTS=ladder, lora...); 1000 is both
    // services' default RECO_SIDE_CAPACITY, so this reads the latest snapshot as they do.
    expect: expectationsFor(checkpoint, new Map(METHOD_NAMES.map((method) => [method, { method, maxSideCapacity: 1000 }]))),
  };
  return {
    fixture,
    kafka,
    producer,
    brokers,
    prefix,
    topics,
    env: { LOG_LEVEL: 'warn', KAFKA_BROKERS: brokers, RECO_TOPIC_PREFIX: prefix, RECO_BACKBONE_DIR: fixture.dir, RECO_GROUP_ID: `${prefix}updater`, RECO_SNAPSHOT_KEY: snapshotKey },
    trust,
    resumeCheck,
    publishSnapshot: async (snapshot) => {
      await sendWithinLimit(producer, topics.adapters, [{ key: snapshot.meta.variant, value: sealSnapshot(snapshot, trust) }]);
    },
    close: async () => {
      await producer.disconnect();
    },
  };
}

/**
 * The fixture world's clicks [from, to) onto the events topic, as any producer would send them:
 * the same clicks in the same order for every test that counts what was trained.
 */
export async function produceClicks(ctx: E2eContext, from: number, to: number): Promise<void> {
  const events = ctx.fixture.world.stream.filter((e) => e.type === 'click').slice(from, to);
  if (events.length !== to - from) throw new Error(`the fixture world has ${from + events.length} clicks, not ${to}`);
  await sendWithinLimit(
    ctx.producer,
    ctx.topics.events,
    events.map((e) => ({ key: e.userId, value: encodeEvent({ userId: e.userId, itemId: e.itemId, type: 'click', ts: e.ts }) })),
  );
}

export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** What GET /v1/models says of the model answering for one variant (serving's ModelInfo, the fields tests read). */
export interface LiveModelInfo {
  variant: string;
  version: number;
  /** Epoch ms the updater published it (null: the built-in identity model). */
  publishedAt: number | null;
  /** Epoch ms this replica swapped it in. */
  appliedAt: number;
}

/** The model serving answers with for a variant, or undefined when the variant is not live. */
export async function liveModel(servingUrl: string, variant: string): Promise<LiveModelInfo | undefined> {
  const body = (await (await fetch(`${servingUrl}/v1/models`)).json()) as { variants: LiveModelInfo[] };
  return body.variants.find((v) => v.variant === variant);
}

/** The version serving answers with for a variant (0 before its first snapshot). */
export async function liveVersion(servingUrl: string, variant: string): Promise<number> {
  return (await liveModel(servingUrl, variant))?.version ?? 0;
}
