import { CachedBackboneRunner, countLookupsInto, createBackboneRunner, expectationsFor, initBackend, loadCheckpoint, type AdapterSnapshot } from '@reco/model';
import { createKafkaClient, createLogger, ensureTopics, topicSpecs, withRetries } from '@reco/stream';
import { buildApp } from './app.js';
import { readUpdaterConfig } from './config.js';
import { readLatestSnapshots, type ResumeCheck } from './latest-snapshots.js';
import { createUpdaterMetrics } from './metrics.js';
import { Updater } from './updater.js';
import { VariantTrainer } from './variant-trainer.js';

// Wiring only: config once, backend, backbone, Kafka, resume positions, then the loop and HTTP.
const config = readUpdaterConfig(process.env);
const logger = createLogger({ name: 'updater', ...config.log });
const backend = await initBackend({ ...(config.tfBackend ? { preferred: config.tfBackend } : {}), log: (message) => logger.info({}, message) });
const checkpoint = await loadCheckpoint(config.backboneDir);
logger.info({ backend: backend.name, backboneId: checkpoint.backboneId, items: checkpoint.itemIds.length }, 'backbone loaded');

const kafka = createKafkaClient(config.kafka, logger);
const specs = topicSpecs({ prefix: config.topicPrefix });
// Every Kafka call of the start goes through the one retry helper: a broker that is still
// electing leaders or loading its coordinator answers "not leader" or "loading" for a while.
const admin = kafka.admin();
const ensured = await withRetries(
  'ensureTopics',
  async () => {
    await admin.connect();
    return ensureTopics(admin, [specs.events, specs.deadLetter, specs.adapters]);
  },
  { logger },
);
for (const warning of ensured.warnings) logger.warn({}, warning);
await admin.disconnect();
logger.info({ brokers: config.kafka.brokers }, 'Kafka ready: topics in place');

const metrics = createUpdaterMetrics();
const trust = config.snapshotTrust;
if (trust.mode === 'insecure') logger.warn({}, 'RECO_SNAPSHOT_INSECURE: snapshots are published unsigned and resumed from unverified (development only)');
// Resume only from what the snapshot owner verifies and what fits this updater: its variants and
// methods, its backbone, a side table no bigger than it would make. Anything else is skipped.
const resumeCheck: ResumeCheck = {
  trust,
  expect: expectationsFor(checkpoint, new Map(config.variants.map((spec) => [spec.name, { method: spec.method, maxSideCapacity: config.training.sideCapacity }]))),
  onSkip: (variant, reason) => metrics.snapshotsSkipped.inc({ variant, reason }),
};
const latest = await readLatestSnapshots(kafka, specs.adapters.name, logger, resumeCheck);
// Ladder variants run the frozen backbone outside the tape, on the engine; one cache behind them
// all means a click is run once however many ladder variants train on it.
const engine = await createBackboneRunner(checkpoint.backbone, { engine: config.backboneEngine, threads: config.ortThreads, providers: config.ortProviders, log: (message) => logger.info({}, message) });
if (engine.fallbackReason !== undefined) logger.warn({ reason: engine.fallbackReason }, 'backbone engine fell back to TF.js');
logger.info({ engine: engine.engine, threads: config.ortThreads, cacheEntries: config.backboneCacheEntries }, 'backbone engine ready');
metrics.backboneEngine.set({ engine: engine.engine }, 1);
const runner =
  config.backboneCacheEntries > 0
    ? new CachedBackboneRunner(engine.runner, { maxEntries: config.backboneCacheEntries, onLookup: countLookupsInto(metrics.backboneCacheLookups) })
    : engine.runner;
const variants = config.variants.map((spec) => {
  const resumeFrom = latest.get(spec.name);
  if (resumeFrom === undefined) return VariantTrainer.create({ spec, checkpoint, settings: config.training, runner });
  try {
    const resumed = VariantTrainer.create({ spec, checkpoint, settings: config.training, runner, resumeFrom });
    logger.info({ variant: spec.name, version: resumeFrom.meta.version, offsets: resumeFrom.meta.offsets, rollback: resumeFrom.meta.rollback }, 'resuming from the latest verified snapshot');
    return resumed;
  } catch (error) {
    // Verified but not loadable (tensor names this build does not know): a crash here would repeat
    // on every restart, so the variant starts over instead, loudly.
    metrics.snapshotsSkipped.inc({ variant: spec.name, reason: 'shape_mismatch' });
    logger.warn({ variant: spec.name, version: resumeFrom.meta.version, err: String(error) }, 'latest verified snapshot does not load; starting this variant at identity');
    return VariantTrainer.create({ spec, checkpoint, settings: config.training, runner });
  }
});
const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
await withRetries('connecting the producer', () => producer.connect(), { logger });
// The stall alert measures from here until the first publish: a variant that has never published
// since start must still be noticed.
for (const spec of config.variants) metrics.lastPublishTime.set({ variant: spec.name }, Date.now() / 1000);

// Rollback records (serving's rollback route) are followed with the resume check's rules, and a
// variant that adopts one is rebuilt the way a restart would resume from it.
const rollbacks = {
  watch: { trust, expect: resumeCheck.expect },
  rebuild: (spec: (typeof config.variants)[number], from: AdapterSnapshot, versionFloor: number) => VariantTrainer.create({ spec, checkpoint, settings: config.training, runner, resumeFrom: from, versionFloor }),
};
const updater = new Updater({ kafka, producer, topics: specs, groupId: config.groupId, sessionTimeoutMs: config.sessionTimeoutMs, historyLookback: config.historyLookback, variants, rollbacks, metrics, logger, trust });
const app = await buildApp({ logger, registry: metrics.registry, consumer: () => updater.health() });
await app.listen({ host: config.host, port: config.port });
await updater.start();

let shuttingDown = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing the step, publishing, leaving the group');
    // Bounded: with Kafka gone the last publish would retry for long; nothing is lost by giving up,
    // since a restarted updater resumes from the last published snapshot's offsets.
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown did not finish in time (is Kafka reachable?); exiting without the last publish');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    void (async () => {
      await updater.stop();
      await producer.disconnect();
      await app.close();
      for (const v of updater.variants) v.dispose();
      runner.dispose();
      engine.runner.dispose();
      checkpoint.backbone.dispose();
      process.exit(0);
    })();
  });
}
