import type { FastifyInstance } from 'fastify';
import { createKafkaClient, ensureTopics, readKafkaConfig, sendWithinLimit, silentLogger, topicSpecs, type Admin, type Kafka, type Producer, type TopicSpec } from '@reco/stream';
import { testKafkaBrokers, uniqueName } from '@reco/stream/testing';
import { buildApp } from '../app.js';
import { startServingEngine, type EngineSettings, type ServingEngine } from '../backbone-engine.js';
import { frozenModel } from '../initial-model.js';
import { startHistoryConsumer, type RunningHistoryConsumer } from '../history-consumer.js';
import { HistoryStore } from '../history-store.js';
import { LiveModels } from '../live-models.js';
import { ServingMetrics } from '../metrics.js';
import { PopularityCounter } from '../popularity.js';
import { withRetries } from '@reco/stream';
import type { ReadinessCheck } from '../routes/health.js';
import { RollbackRecords } from '../rollback-record.js';
import { configuredBounds, SnapshotApplier } from '../snapshot-applier.js';
import { ItemCoVisits, sealSnapshot, snapshotTrust, type AdapterSnapshot, type MethodName, type SnapshotTrust } from '../model-api.js';
import { startSnapshotConsumer, type RunningSnapshotConsumer } from '../snapshot-consumer.js';
import { afterAll, beforeAll } from 'vitest';
import { tinyBackbone, type TinyBackbone } from './tiny-backbone.js';

export const ADMIN_TOKEN = 'test-admin-token';
/** The signing key of every serving test (64 hex characters = 32 bytes, the minimum). */
export const TEST_SNAPSHOT_KEY = '5e'.repeat(32);
export const TEST_TRUST: SnapshotTrust = snapshotTrust(TEST_SNAPSHOT_KEY, false);
/** The variants the harness's applier is configured with (like RECO_VARIANTS=ladder,lora). */
export const HARNESS_VARIANTS: readonly { name: string; method: MethodName }[] = [
  { name: 'ladder', method: 'ladder' },
  { name: 'lora', method: 'lora' },
];
/** RECO_SIDE_CAPACITY of the harness's applier. */
export const HARNESS_SIDE_CAPACITY = 16;

export interface Harness {
  app: FastifyInstance;
  kafka: Kafka;
  admin: Admin;
  /** The app's producer (events, dead letters); the app disconnects it on close. */
  producer: Producer;
  /** A producer of the test's own, for publishing snapshots. */
  publisher: Producer;
  topics: { events: TopicSpec; deadLetter: TopicSpec; adapters: TopicSpec };
  models: LiveModels;
  history: HistoryStore;
  metrics: ServingMetrics;
  /** The backbone chain the models run through (engine, micro-batching, activation cache). */
  engine: ServingEngine;
  snapshots?: RunningSnapshotConsumer;
  historyConsumer?: RunningHistoryConsumer;
  /** Signs with the test key and publishes, as the updater does. */
  publish(snapshot: AdapterSnapshot): Promise<void>;
  /** Publishes bytes as they are (forged, unsigned, truncated...) under a message key. */
  publishRaw(key: string, value: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * One tiny backbone and one harness for a whole test file: started before its tests, closed (and
 * the backbone freed) after them. Read `.h` and `.backbone` inside tests and helpers.
 */
export function useFileHarness(options: Parameters<typeof startHarness>[1] = {}): { readonly h: Harness; readonly backbone: TinyBackbone } {
  let backbone: TinyBackbone | undefined;
  let h: Harness | undefined;
  beforeAll(async () => {
    backbone = await tinyBackbone();
    h = await startHarness(backbone, options);
  });
  afterAll(async () => {
    await h?.close();
    backbone?.checkpoint.backbone.dispose();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the file harness is used before its beforeAll ran');
    return value;
  };
  return {
    get h() {
      return started(h);
    },
    get backbone() {
      return started(backbone);
    },
  };
}

export function testKafka(clientId: string): Kafka {
  return createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: clientId }), silentLogger);
}

/**
 * The serving app around real objects and a real broker, on fresh topics (unique prefix) and
 * fresh consumer groups, with whichever consumers the test needs.
 */
export async function startHarness(
  backbone: TinyBackbone,
  options: { engine?: Partial<EngineSettings>; consumeSnapshots?: boolean; rollbackTimeoutMs?: number; consumeHistory?: boolean; historyLookbackMs?: number; readiness?: ReadinessCheck[]; bodyLimitBytes?: number; beforeConsumers?: (h: Harness) => Promise<void> } = {},
): Promise<Harness> {
  const label = uniqueName('serving');
  const kafka = testKafka(label);
  const topics = topicSpecs({ prefix: `${label}.`, eventPartitions: 2 });
  const admin = kafka.admin();
  await admin.connect();
  await withRetries('ensureTopics', () => ensureTopics(admin, [topics.events, topics.deadLetter, topics.adapters]));
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const publisher = kafka.producer({ allowAutoTopicCreation: false });
  await Promise.all([producer.connect(), publisher.connect()]);

  const { backbone: model, itemIds, backboneId } = backbone.checkpoint;
  const metrics = new ServingMetrics({ defaultMetrics: false });
  // The production chain (ONNX Runtime where it loads), so the tests exercise what serves.
  const engine = await startServingEngine(model, { engine: 'auto', threads: 1, providers: ['cpu'], cacheEntries: 1000, batchMaxSize: 64, batchMaxWaitMs: 2, ...options.engine }, metrics, () => undefined);
  const { fast } = engine;
  const models = new LiveModels();
  models.swap(frozenModel(model, itemIds, backboneId, { fast }));
  const history = new HistoryStore({ maxLength: 20, maxUsers: 1000 });
  const popularity = new PopularityCounter({ halfLifeMs: 3_600_000 });
  const coVisits = new ItemCoVisits();
  // The rollback route publishes its record and waits for this applier to apply it, as in
  // production; only a harness with a snapshot consumer (consumeSnapshots) ever gets it back.
  const variants = await configuredBounds(HARNESS_VARIANTS, model, itemIds, HARNESS_SIDE_CAPACITY);
  const applier = new SnapshotApplier({ backbone: model, backboneId, itemIds, models, metrics, logger: silentLogger, fast, trust: TEST_TRUST, variants, maxVersionJump: 1000 });
  const rollback = new RollbackRecords({ models, producer, adapters: topics.adapters, trust: TEST_TRUST, applier, timeoutMs: options.rollbackTimeoutMs ?? 10_000 });
  const app = await buildApp({
    models,
    history,
    coVisits,
    popularity,
    producer,
    topics,
    metrics,
    policy: { defaultVariant: undefined, split: [{ variant: 'ladder', weight: 1 }] },
    adminToken: ADMIN_TOKEN,
    rollback,
    readiness: options.readiness ?? [],
    bodyLimitBytes: options.bodyLimitBytes ?? 64 * 1024,
  });
  const harness: Harness = {
    app,
    kafka,
    admin,
    producer,
    publisher,
    topics,
    models,
    history,
    metrics,
    engine,
    publish: async (snapshot) => {
      await sendWithinLimit(publisher, topics.adapters, [{ key: snapshot.meta.variant, value: sealSnapshot(snapshot, TEST_TRUST) }]);
    },
    publishRaw: async (key, value) => {
      await sendWithinLimit(publisher, topics.adapters, [{ key, value }]);
    },
    close: async () => {
      await Promise.allSettled([harness.snapshots?.stop(), harness.historyConsumer?.stop()]);
      await app.close();
      engine.dispose();
      await Promise.allSettled([publisher.disconnect(), admin.disconnect()]);
    },
  };
  await options.beforeConsumers?.(harness);
  if (options.consumeSnapshots === true) {
    harness.snapshots = await startSnapshotConsumer({ kafka, adapters: topics.adapters, groupId: uniqueName('snapshots'), applier, metrics, logger: silentLogger });
  }
  if (options.consumeHistory === true) {
    harness.historyConsumer = await startHistoryConsumer({
      kafka,
      events: topics.events,
      groupId: uniqueName('history'),
      history,
      coVisits,
      popularity,
      metrics,
      logger: silentLogger,
      lookbackMs: options.historyLookbackMs ?? 0,
    });
  }
  return harness;
}

/**
 * An applier configured like the harness's consumer's (test key, HARNESS_VARIANTS, side capacity
 * HARNESS_SIDE_CAPACITY), for tests that apply snapshots without the topic; `apply` signs first.
 */
export async function harnessApplier(h: Pick<Harness, 'models' | 'metrics' | 'engine'>, backbone: TinyBackbone, options: { maxVersionJump?: number } = {}): Promise<SnapshotApplier & { apply(snapshot: AdapterSnapshot): ReturnType<SnapshotApplier['applyMessage']> }> {
  const { backbone: model, itemIds, backboneId } = backbone.checkpoint;
  const variants = await configuredBounds(HARNESS_VARIANTS, model, itemIds, HARNESS_SIDE_CAPACITY);
  const applier = new SnapshotApplier({ backbone: model, backboneId, itemIds, models: h.models, metrics: h.metrics, logger: silentLogger, fast: h.engine.fast, trust: TEST_TRUST, variants, maxVersionJump: options.maxVersionJump ?? 1000 });
  return Object.assign(applier, { apply: (snapshot: AdapterSnapshot) => applier.applyMessage(sealSnapshot(snapshot, TEST_TRUST), Buffer.from(snapshot.meta.variant)) });
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, what: string | (() => string) = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
