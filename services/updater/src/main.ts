import { randomUUID } from 'node:crypto';
import { CachedBackboneRunner, countLookupsInto, createBackboneRunner, expectationsFor, initBackend, loadCheckpoint, type AdapterSnapshot } from '@reco/model';
import { createKafkaClient, createLogger, ensureTopics, topicSpecs, withRetries } from '@reco/stream';
import { buildApp } from './app.js';
import { readUpdaterConfig } from './config.js';
import { readLatestSnapshots, type ResumeCheck } from './latest-snapshots.js';
import { acquireLease, leaseGroup, type Lease } from './lease.js';
import { createUpdaterMetrics } from './metrics.js';
import { SnapshotPublisher } from './snapshot-publisher.js';
import { Updater } from './updater.js';
import { VariantTrainer } from './variant-trainer.js';

// Wiring only: config once, backend, backbone, Kafka, the engine and HTTP; then, as standby, the
// lease; once active: the fence, resume positions, the trainers and the loop.
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
    return ensureTopics(admin, [specs.events, specs.deadLetter, specs.adapters, specs.lease]);
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
// Ladder variants run the frozen backbone outside the tape, on the engine; one cache behind them
// all means a click is run once however many ladder variants train on it. Built before the lease,
// so a standby that takes over has only the snapshots to read.
const engine = await createBackboneRunner(checkpoint.backbone, { engine: config.backboneEngine, threads: config.ortThreads, providers: config.ortProviders, log: (message) => logger.info({}, message) });
if (engine.fallbackReason !== undefined) logger.warn({ reason: engine.fallbackReason }, 'backbone engine fell back to TF.js');
logger.info({ engine: engine.engine, threads: config.ortThreads, cacheEntries: config.backboneCacheEntries }, 'backbone engine ready');
metrics.backboneEngine.set({ engine: engine.engine }, 1);
const runner =
  config.backboneCacheEntries > 0
    ? new CachedBackboneRunner(engine.runner, { maxEntries: config.backboneCacheEntries, onLookup: countLookupsInto(metrics.backboneCacheLookups) })
    : engine.runner;

let role: 'starting' | 'standby' | 'active' = 'starting';
// Set once each exists; the HTTP routes, the signal handler and stepDown look here.
const current: { updater?: Updater; lease?: Lease } = {};
let shuttingDown = false;
metrics.active.set(0);
const app = await buildApp({ logger, registry: metrics.registry, consumer: () => current.updater?.health(), role: () => role });
await app.listen({ host: config.host, port: config.port });

/**
 * Lease lost or fenced: another updater is (or is about to be) active for these variants. Nothing
 * more may be published, and nothing trained since the last publish is worth keeping (the new
 * active resumes from the last snapshot's offsets), so the process exits at once, non-zero: its
 * supervisor restarts it and it waits as standby.
 */
const EXIT_STEPPED_DOWN = 75;
function stepDown(reason: string): void {
  role = 'starting';
  metrics.active.set(0);
  logger.error({ reason, exitCode: EXIT_STEPPED_DOWN }, 'stepping down: no longer the active updater for these variants; exiting (restarted, it waits as standby)');
  shuttingDown = true;
  // Leaving the lease group at once keeps a dead member's stale claim out of the next rebalance;
  // bounded, since the broker may be what failed.
  const left = current.lease?.release().catch(() => undefined);
  void Promise.race([left, new Promise((r) => setTimeout(r, 2000))]).finally(() => process.exit(EXIT_STEPPED_DOWN));
}

// SIGTERM while waiting as standby: leave the lease group (no wait for the session) and go.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void shutDown(signal));
}

const variantNames = config.variants.map((spec) => spec.name);
const group = leaseGroup(specs.adapters.name, variantNames);
current.lease = await withRetries(
  'joining the lease group',
  () =>
    acquireLease({
      kafka,
      topic: specs.lease.name,
      group,
      sessionTimeoutMs: config.leaseSessionTimeoutMs,
      logger,
      onStandby: () => {
        if (role === 'starting') role = 'standby';
      },
      onLost: (reason) => stepDown(`lease lost: ${reason}`),
    }),
  { logger },
);
if (shuttingDown) await new Promise(() => undefined); // a signal came while joining: shutDown exits
role = 'active';
metrics.active.set(1);

// The fence first, then the read: from here on an older updater for these variants (a zombie that
// was only paused) can commit nothing, so the latest snapshots read next are final.
const publisher = await withRetries(
  'taking the snapshot transactional ids over',
  () => SnapshotPublisher.open({ kafka, topic: specs.adapters, variants: variantNames, logger, onFenced: (variant) => stepDown(`fenced: a newer updater took variant ${variant} over`) }),
  { logger },
);
const latest = await readLatestSnapshots(kafka, specs.adapters.name, logger, resumeCheck);
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
// Dead letters are written outside any transaction: a transactional producer cannot do that.
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
// Groups of this process alone (no offsets are committed: the positions are in the snapshots): a
// standby taking over after a kill -9 would otherwise wait out the dead member's session in the
// old groups before it is given any partition.
const startId = randomUUID().slice(0, 8);
const updater = new Updater({
  kafka,
  producer,
  snapshots: publisher,
  topics: specs,
  groupId: `${config.groupId}.${startId}`,
  sessionTimeoutMs: config.sessionTimeoutMs,
  historyLookback: config.historyLookback,
  variants,
  rollbacks,
  metrics,
  logger,
  trust,
});
current.updater = updater;
await updater.start();

async function shutDown(signal: NodeJS.Signals): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal, role }, 'shutting down: finishing the step, publishing, leaving the group');
  // Bounded: with Kafka gone the last publish would retry for long; nothing is lost by giving up,
  // since a restarted updater resumes from the last published snapshot's offsets.
  const deadline = setTimeout(() => {
    logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown did not finish in time (is Kafka reachable?); exiting without the last publish');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  try {
    const running = current.updater;
    if (running !== undefined) {
      await running.stop();
      await Promise.all([producer.disconnect(), publisher.disconnect()]);
      for (const v of running.variants) v.dispose();
    }
    // Left after the last publish: a standby takes over at once, from that snapshot's offsets.
    await current.lease?.release();
    await app.close();
    runner.dispose();
    engine.runner.dispose();
    checkpoint.backbone.dispose();
    process.exit(0);
  } catch (error) {
    logger.error({ err: String(error) }, 'graceful shutdown failed');
    process.exit(1);
  }
}
