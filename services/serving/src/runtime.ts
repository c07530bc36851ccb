import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import {
  consumerNotReadyReason,
  createKafkaClient,
  createLogger,
  ensureTopics,
  errorSummary,
  fastFailingClientFor,
  silentLogger,
  topicSpecs,
  withRetries,
  type Admin,
  type Kafka,
  type Logger,
  type ServiceLogger,
} from '@reco/stream';
import { buildApp } from './app.js';
import { clusterMetricsText } from './cluster.js';
import { startServingEngine, type ServingEngine } from './backbone-engine.js';
import type { ServingConfig } from './config.js';
import { frozenModel, initialModel } from './initial-model.js';
import { startHistoryConsumer, type RunningHistoryConsumer } from './history-consumer.js';
import { HistoryStore } from './history-store.js';
import { ItemDirectory } from './item-directory.js';
import { startItemsConsumer, type RunningItemsConsumer } from './items-consumer.js';
import { LiveModels } from './live-models.js';
import { ServingMetrics } from './metrics.js';
import { initBackend, ItemCoVisits, loadCheckpoint } from './model-api.js';
import { PopularityCounter } from './popularity.js';
import type { ReadinessCheck } from './routes/health.js';
import { RollbackRecords } from './rollback-record.js';
import { configuredBounds, SnapshotApplier } from './snapshot-applier.js';
import { startSnapshotConsumer, type RunningSnapshotConsumer } from './snapshot-consumer.js';

export interface ServingRuntime {
  app: FastifyInstance;
  backboneId: string;
  backend: string;
  /** The engine running the backbone: onnx, or tfjs (configured, or fallen back to). */
  engine: 'onnx' | 'tfjs';
  snapshots: RunningSnapshotConsumer;
  /** Stops the consumers, then closes the app (producer, models, metrics), then frees the backbone. */
  stop(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether the cluster answers a metadata request within 2 s. One probe at a time, whatever the
 * rate of /readyz calls, through a client that fails fast (a dead broker must not stack up 20 s
 * retries per probe); the cause is logged when reachability changes, not on every probe.
 */
function reachabilityProbe(kafka: Kafka, logger: Logger): { check(): Promise<boolean>; close(): Promise<void> } {
  let admin: Admin | undefined;
  let inFlight: Promise<boolean> | undefined;
  let reachable = true;
  const probe = async (): Promise<boolean> => {
    try {
      admin ??= fastFailingClientFor(kafka).admin();
      await withTimeout(admin.connect().then(() => admin?.describeCluster()), 2000, 'Kafka');
      if (!reachable) logger.info({}, 'Kafka reachable again');
      return (reachable = true);
    } catch (error) {
      if (reachable) logger.warn({ err: errorSummary(error) }, 'Kafka unreachable (readiness)');
      const stale = admin;
      admin = undefined;
      void stale?.disconnect().catch(() => undefined);
      return (reachable = false);
    }
  };
  return {
    check: () => (inFlight ??= probe().finally(() => (inFlight = undefined))),
    close: async () => {
      await inFlight;
      await admin?.disconnect().catch(() => undefined);
    },
  };
}

/**
 * Everything main.ts does except listening: backend, backbone, Kafka, topics, app, consumers.
 * One logger (createLogger in @reco/stream, or `options.logger`; `false` logs nothing) serves
 * KafkaJS, the consumers and Fastify alike.
 */
export async function startServingRuntime(config: ServingConfig, options: { logger?: ServiceLogger | false } = {}): Promise<ServingRuntime> {
  const logger: ServiceLogger | undefined = options.logger === false ? undefined : (options.logger ?? createLogger({ name: 'serving', ...config.log }));
  const backendLog: string[] = [];
  const backend = await initBackend({ ...(config.tfBackend === undefined ? {} : { preferred: config.tfBackend }), log: (m) => backendLog.push(m) });
  const checkpoint = await loadCheckpoint(config.backboneDir);
  const { backbone, itemIds, backboneId } = checkpoint;

  const topics = topicSpecs({ prefix: config.topicPrefix });
  const metrics = new ServingMetrics();
  let engine: ServingEngine;
  try {
    engine = await startServingEngine(backbone, config.engine, metrics, (m) => backendLog.push(m));
  } catch (error) {
    backbone.dispose();
    throw error;
  }
  const { fast } = engine;
  const models = new LiveModels();
  models.swap(frozenModel(backbone, itemIds, backboneId, { fast }));
  for (const variant of config.variants) if (variant.name !== 'frozen') models.swap(initialModel(variant.name, variant.method, backbone, itemIds, backboneId, { fast }));
  const history = new HistoryStore({ maxLength: config.historyLength, maxUsers: config.historyMaxUsers });
  const coVisits = new ItemCoVisits();
  // The fallback starts from the pretraining counts (older checkpoints have none: catalogue order).
  const popularity = new PopularityCounter({ halfLifeMs: config.popularityHalfLifeMs, prior: checkpoint.itemCounts });
  const items = new ItemDirectory({ itemIds, metadata: checkpoint.itemMetadata });

  const kafkaLogger: Logger = logger ?? silentLogger;
  const kafka = createKafkaClient(config.kafka, kafkaLogger);
  const admin = kafka.admin();
  // Not KafkaJS's idempotent producer: it retries forever (an HTTP request would hang instead of
  // getting a 503) and has had sequence-number bugs with concurrent send() calls, which is exactly
  // what concurrent POST /v1/events do. Delivery is at-least-once: a produce retried after a lost
  // ack can duplicate an event, and the client is told 503 only when nothing was acknowledged.
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  let snapshots: RunningSnapshotConsumer | undefined;
  let historyConsumer: RunningHistoryConsumer | undefined;
  let itemsConsumer: RunningItemsConsumer | undefined;
  try {
    // Every Kafka call of the start retries what isRetriable calls transient (a coordinator still
    // loading, a leader not yet elected, a broker restarting), through the one helper.
    const ensured = await withRetries(
      'ensureTopics',
      async () => {
        await admin.connect();
        return ensureTopics(admin, [topics.events, topics.deadLetter, topics.adapters, topics.items]);
      },
      { logger: kafkaLogger },
    );
    for (const warning of ensured.warnings) kafkaLogger.warn({}, warning);
    await withRetries('connecting the producer', () => producer.connect(), { logger: kafkaLogger });
    // The one line saying the broker is there: KafkaJS's retries while it settled were at debug.
    kafkaLogger.info({ brokers: config.kafka.brokers }, 'Kafka ready: topics in place, producer connected');
    const kafkaReachable = reachabilityProbe(kafka, kafkaLogger);
    // Reasons are shown to anyone who asks /readyz: they name what is not ready, never an error
    // text or a broker address (those go to the log).
    const readiness: ReadinessCheck[] = [
      async () => (models.has('frozen') && !backbone.isDisposed ? undefined : 'backbone not loaded'),
      async () => ((await kafkaReachable.check()) ? undefined : 'Kafka unreachable'),
      async () =>
        snapshots === undefined
          ? 'snapshot consumer not started'
          : (consumerNotReadyReason(snapshots.health()) ?? (snapshots.caughtUp ? undefined : 'snapshot consumer not yet caught up with the adapters topic')),
      async () => (historyConsumer === undefined ? 'history consumer not started' : consumerNotReadyReason(historyConsumer.health())),
      // Until the catalogue is read, an item another replica marked unavailable could be recommended.
      async () =>
        itemsConsumer === undefined
          ? 'items consumer not started'
          : (consumerNotReadyReason(itemsConsumer.health()) ?? (itemsConsumer.caughtUp ? undefined : 'items consumer not yet caught up with the items topic')),
    ];
    const { trust, maxSideCapacity, maxVersionJump, rollbackTimeoutMs } = config.snapshots;
    if (trust.mode === 'insecure') kafkaLogger.warn({}, 'RECO_SNAPSHOT_INSECURE: snapshots are NOT verified and rollback records go unsigned; anyone who can write to the adapters topic decides what is served (development only)');
    const bounds = await configuredBounds(config.variants, backbone, itemIds, maxSideCapacity);
    const applier = new SnapshotApplier({ backbone, backboneId, itemIds, models, metrics, logger: kafkaLogger, fast, trust, variants: bounds, maxVersionJump });
    // The route's record comes back through this replica's own snapshot consumer (started below).
    const rollback = new RollbackRecords({ models, producer, adapters: topics.adapters, trust, applier, timeoutMs: rollbackTimeoutMs });
    const app = await buildApp({
      ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
      models,
      history,
      coVisits,
      popularity,
      items: { directory: items, topic: topics.items },
      producer,
      topics,
      metrics,
      policy: { defaultVariant: config.defaultVariant, split: config.variantSplit },
      readiness,
      adminToken: config.adminToken,
      rollback,
      bodyLimitBytes: config.bodyLimitBytes,
      http: config.http,
      metricsText: clusterMetricsText(metrics.registry),
    });
    for (const line of backendLog) app.log.info({ backend: backend.name }, line);
    app.log.info({ backboneId, items: itemIds.length, dir: config.backboneDir, engine: engine.engine, engineSettings: config.engine }, 'backbone loaded');
    if (engine.fallbackReason !== undefined) app.log.warn({ reason: engine.fallbackReason }, 'backbone engine fell back to TF.js');

    const replica = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    snapshots = await startSnapshotConsumer({ kafka, adapters: topics.adapters, groupId: `reco-serving-snapshots-${replica}`, applier, metrics, logger: app.log });
    historyConsumer = await startHistoryConsumer({
      kafka,
      events: topics.events,
      groupId: `reco-serving-history-${replica}`,
      history,
      coVisits,
      popularity,
      metrics,
      logger: app.log,
      lookbackMs: config.historyLookbackMs,
    });
    app.log.info({ items: items.size, titled: items.titled, pretrainingCounts: popularity.priorSize }, 'item catalogue from the checkpoint; reco.items adds the API writes');
    itemsConsumer = await startItemsConsumer({ kafka, items: topics.items, groupId: `reco-serving-items-${replica}`, directory: items, metrics, logger: app.log });
    const running = { snapshots, history: historyConsumer, items: itemsConsumer };
    return {
      app,
      backboneId,
      backend: backend.name,
      engine: engine.engine,
      snapshots,
      stop: async () => {
        await Promise.allSettled([running.snapshots.stop(), running.history.stop(), running.items.stop()]);
        await app.close();
        await admin.disconnect();
        await kafkaReachable.close();
        engine.dispose();
        backbone.dispose();
      },
    };
  } catch (error) {
    await Promise.allSettled([snapshots?.stop(), historyConsumer?.stop(), itemsConsumer?.stop(), producer.disconnect(), admin.disconnect()]);
    models.close();
    engine.dispose();
    backbone.dispose();
    throw error;
  }
}
