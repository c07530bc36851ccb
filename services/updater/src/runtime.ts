import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CachedBackboneRunner, countLookupsInto, createBackboneRunner, expectationsFor, initBackend, loadCheckpoint, type AdapterSnapshot, type BackboneRunner, type BackboneRunnerChoice } from '@reco/model';
import { createKafkaClient, createLogger, ensureTopics, silentLogger, topicSpecs, withRetries, type Logger, type Message, type Producer, type ServiceLogger } from '@reco/stream';
import { buildApp } from './app.js';
import type { UpdaterConfig } from './config.js';
import { readLatestSnapshots, type ResumeCheck } from './latest-snapshots.js';
import { acquireLease, leaseGroup, type Lease } from './lease.js';
import { createUpdaterMetrics, type UpdaterMetrics } from './metrics.js';
import { ProducerFencedError, SnapshotPublisher } from './snapshot-publisher.js';
import { Updater, type SnapshotSink } from './updater.js';
import { VariantTrainer } from './variant-trainer.js';

/**
 * Lease lost or fenced: another updater is (or is about to be) active for these variants. Nothing
 * more may be published, and nothing trained since the last publish is worth keeping (the new
 * active resumes from the last snapshot's offsets), so the process exits at once, non-zero: its
 * supervisor restarts it and it waits as standby.
 */
export const EXIT_STEPPED_DOWN = 75;

/** Where this updater stands with the lease of its variants (see buildApp's `role`). */
export type UpdaterRole = 'starting' | 'standby' | 'active';

export interface UpdaterRuntimeOptions {
  /** The one logger of the process (KafkaJS, the loop, Fastify); default createLogger from the config; `false` logs nothing. */
  logger?: ServiceLogger | false;
  /**
   * Called once when this updater steps down (lease lost or fenced), after the lease was left
   * (bounded, 2 s). main.ts exits with EXIT_STEPPED_DOWN here; a test records it and calls stop().
   */
  onStepDown(reason: string): void;
}

export interface UpdaterRuntime {
  /** The HTTP surface (/healthz, /readyz, /metrics), built but not listening: main.ts listens, tests inject. */
  readonly app: FastifyInstance;
  readonly metrics: UpdaterMetrics;
  readonly backboneId: string;
  readonly backend: string;
  /** The engine running the frozen backbone for ladder variants. */
  readonly engine: 'onnx' | 'tfjs';
  role(): UpdaterRole;
  /** The training loop, once this updater is active and it has started. */
  updater(): Updater | undefined;
  /**
   * Waits as standby until the lease is held, then: the fence, the resume positions, the trainers
   * and the loop. Resolves true once the loop runs; false when stop() or a step-down came first.
   * Called again, it returns the same promise.
   */
  start(): Promise<boolean>;
  /**
   * Graceful stop, bounded by RECO_SHUTDOWN_TIMEOUT_MS (rejects past it, or when a step fails):
   * finishes the step, publishes, leaves the events group, then the lease, then closes the app and
   * frees the backbone. After a step-down it waits for onStepDown, then frees everything without
   * publishing. Called again, it returns the same promise.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Everything main.ts does except listening and handling signals: config once, backend, backbone,
 * Kafka, the engine and HTTP (here); then, on start(), as standby, the lease; once active: the
 * fence, resume positions, the trainers and the loop.
 */
export async function buildUpdaterRuntime(config: UpdaterConfig, options: UpdaterRuntimeOptions): Promise<UpdaterRuntime> {
  const serviceLogger = options.logger === false ? undefined : (options.logger ?? createLogger({ name: 'updater', ...config.log }));
  const logger: Logger = serviceLogger ?? silentLogger;
  const backend = await initBackend({ ...(config.tfBackend ? { preferred: config.tfBackend } : {}), log: (message) => logger.info({}, message) });
  const checkpoint = await loadCheckpoint(config.backboneDir);
  logger.info({ backend: backend.name, backboneId: checkpoint.backboneId, items: checkpoint.itemIds.length }, 'backbone loaded');

  const kafka = createKafkaClient(config.kafka, logger);
  const specs = topicSpecs({ prefix: config.topicPrefix });
  const admin = kafka.admin();
  let role: UpdaterRole = 'starting';
  // Set once each exists; the HTTP routes, stop() and stepDown look here.
  const current: { updater?: Updater; lease?: Lease; publisher?: SnapshotPublisher; producer?: Producer } = {};
  // Aborted by stop() and by a step-down: a start still under way goes no further.
  const halt = new AbortController();
  let starting: Promise<boolean> | undefined;
  let stopping: Promise<void> | undefined;
  let steppedDown: Promise<void> | undefined;
  let engine: BackboneRunnerChoice | undefined;
  let runner: BackboneRunner | undefined;
  let app: FastifyInstance;
  const metrics = createUpdaterMetrics();
  let resumeCheck: ResumeCheck;
  try {
    // Every Kafka call of the start goes through the one retry helper: a broker that is still
    // electing leaders or loading its coordinator answers "not leader" or "loading" for a while.
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

    if (config.snapshotTrust.mode === 'insecure') logger.warn({}, 'RECO_SNAPSHOT_INSECURE: snapshots are published unsigned and resumed from unverified (development only)');
    // Resume only from what the snapshot owner verifies and what fits this updater: its variants and
    // methods, its backbone, a side table no bigger than it would make. Anything else is skipped.
    resumeCheck = {
      trust: config.snapshotTrust,
      expect: expectationsFor(checkpoint, new Map(config.variants.map((spec) => [spec.name, { method: spec.method, maxSideCapacity: config.training.sideCapacity }]))),
      onSkip: (variant, reason) => metrics.snapshotsSkipped.inc({ variant, reason }),
    };
    // Ladder variants run the frozen backbone outside the tape, on the engine; one cache behind them
    // all means a click is run once however many ladder variants train on it. Built before the lease,
    // so a standby that takes over has only the snapshots to read.
    engine = await createBackboneRunner(checkpoint.backbone, { engine: config.backboneEngine, threads: config.ortThreads, providers: config.ortProviders, log: (message) => logger.info({}, message) });
    if (engine.fallbackReason !== undefined) logger.warn({ reason: engine.fallbackReason }, 'backbone engine fell back to TF.js');
    logger.info({ engine: engine.engine, threads: config.ortThreads, cacheEntries: config.backboneCacheEntries }, 'backbone engine ready');
    metrics.backboneEngine.set({ engine: engine.engine }, 1);
    runner =
      config.backboneCacheEntries > 0
        ? new CachedBackboneRunner(engine.runner, { maxEntries: config.backboneCacheEntries, onLookup: countLookupsInto(metrics.backboneCacheLookups) })
        : engine.runner;
    metrics.active.set(0);
    app = await buildApp({ ...(serviceLogger === undefined ? {} : { logger: serviceLogger }), registry: metrics.registry, consumer: () => current.updater?.health(), role: () => role });
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    runner?.dispose();
    engine?.runner.dispose();
    checkpoint.backbone.dispose();
    throw error;
  }
  const backbone = { runner, engine };

  function stepDown(reason: string): void {
    if (steppedDown !== undefined) return;
    role = 'starting';
    metrics.active.set(0);
    logger.error({ reason, exitCode: EXIT_STEPPED_DOWN }, 'stepping down: no longer the active updater for these variants; exiting (restarted, it waits as standby)');
    halt.abort();
    // Leaving the lease group at once keeps a dead member's stale claim out of the next rebalance;
    // bounded, since the broker may be what failed.
    const lease = current.lease;
    current.lease = undefined;
    const left = lease?.release().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise((r) => (timer = setTimeout(r, 2000)));
    steppedDown = Promise.race([left, bound]).then(() => {
      clearTimeout(timer);
      options.onStepDown(reason);
    });
  }

  // A stepped-down updater publishes nothing more, even in the moment before its process exits
  // (lease lost is not fenced yet: a publish could still commit) or, in-process, while it stops.
  const sink: SnapshotSink = {
    publish: async (variant: string, message: Message) => {
      if (steppedDown !== undefined) throw new ProducerFencedError('this updater stepped down; it publishes nothing more');
      const publisher = current.publisher;
      if (publisher === undefined) throw new Error('no snapshot publisher (not active)');
      return publisher.publish(variant, message);
    },
  };

  async function becomeActive(): Promise<boolean> {
    if (halt.signal.aborted) return false;
    const variantNames = config.variants.map((spec) => spec.name);
    const group = leaseGroup(specs.adapters.name, variantNames);
    try {
      current.lease = await withRetries(
        'joining the lease group',
        () =>
          acquireLease({
            kafka,
            topic: specs.lease.name,
            group,
            sessionTimeoutMs: config.leaseSessionTimeoutMs,
            logger,
            // Stopped while waiting as standby: leave the lease group (no wait for the session) and go.
            signal: halt.signal,
            onStandby: () => {
              if (role === 'starting') role = 'standby';
            },
            onLost: (reason) => stepDown(`lease lost: ${reason}`),
          }),
        { logger },
      );
    } catch (error) {
      if (halt.signal.aborted) return false;
      throw error;
    }
    if (halt.signal.aborted) return false; // stopped as the lease came: stop() releases it
    role = 'active';
    metrics.active.set(1);

    // The fence first, then the read: from here on an older updater for these variants (a zombie that
    // was only paused) can commit nothing, so the latest snapshots read next are final.
    current.publisher = await withRetries(
      'taking the snapshot transactional ids over',
      () => SnapshotPublisher.open({ kafka, topic: specs.adapters, variants: variantNames, logger, onFenced: (variant) => stepDown(`fenced: a newer updater took variant ${variant} over`) }),
      { logger },
    );
    if (halt.signal.aborted) return false;
    const latest = await readLatestSnapshots(kafka, specs.adapters.name, logger, resumeCheck);
    if (halt.signal.aborted) return false;
    const settings = config.training;
    const variants = config.variants.map((spec) => {
      const resumeFrom = latest.get(spec.name);
      if (resumeFrom === undefined) return VariantTrainer.create({ spec, checkpoint, settings, runner: backbone.runner });
      try {
        const resumed = VariantTrainer.create({ spec, checkpoint, settings, runner: backbone.runner, resumeFrom });
        logger.info({ variant: spec.name, version: resumeFrom.meta.version, offsets: resumeFrom.meta.offsets, rollback: resumeFrom.meta.rollback }, 'resuming from the latest verified snapshot');
        return resumed;
      } catch (error) {
        // Verified but not loadable (tensor names this build does not know): a crash here would repeat
        // on every restart, so the variant starts over instead, loudly.
        metrics.snapshotsSkipped.inc({ variant: spec.name, reason: 'shape_mismatch' });
        logger.warn({ variant: spec.name, version: resumeFrom.meta.version, err: String(error) }, 'latest verified snapshot does not load; starting this variant at identity');
        return VariantTrainer.create({ spec, checkpoint, settings, runner: backbone.runner });
      }
    });
    // Dead letters are written outside any transaction: a transactional producer cannot do that.
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    current.producer = producer;
    try {
      await withRetries('connecting the producer', () => producer.connect(), { logger });
    } catch (error) {
      for (const v of variants) v.dispose();
      throw error;
    }
    if (halt.signal.aborted) {
      for (const v of variants) v.dispose();
      return false;
    }
    // The stall alert measures from here until the first publish: a variant that has never published
    // since start must still be noticed.
    for (const spec of config.variants) metrics.lastPublishTime.set({ variant: spec.name }, Date.now() / 1000);

    // Rollback records (serving's rollback route) are followed with the resume check's rules, and a
    // variant that adopts one is rebuilt the way a restart would resume from it.
    const rollbacks = {
      watch: { trust: config.snapshotTrust, expect: resumeCheck.expect },
      rebuild: (spec: (typeof config.variants)[number], from: AdapterSnapshot, versionFloor: number) =>
        VariantTrainer.create({ spec, checkpoint, settings, runner: backbone.runner, resumeFrom: from, versionFloor }),
    };
    // Groups of this process alone (no offsets are committed: the positions are in the snapshots): a
    // standby taking over after a kill -9 would otherwise wait out the dead member's session in the
    // old groups before it is given any partition.
    const startId = randomUUID().slice(0, 8);
    const updater = new Updater({
      kafka,
      producer,
      snapshots: sink,
      topics: specs,
      groupId: `${config.groupId}.${startId}`,
      sessionTimeoutMs: config.sessionTimeoutMs,
      historyLookback: config.historyLookback,
      variants,
      rollbacks,
      metrics,
      logger,
      trust: config.snapshotTrust,
    });
    current.updater = updater;
    await updater.start();
    return !halt.signal.aborted;
  }

  /** Frees everything start() and build made, in order; `afterStepDown`: the final publish is refused, and that is expected. */
  async function release(afterStepDown: boolean): Promise<void> {
    halt.abort();
    // A start under way stops at its next step (a standby leaves the lease group at once).
    await starting?.catch(() => undefined);
    const running = current.updater;
    if (running !== undefined) {
      const stopped = running.stop();
      if (afterStepDown) await stopped.catch((error: unknown) => logger.debug({ err: String(error) }, 'stopped after stepping down; nothing published'));
      else await stopped;
    }
    await Promise.all([current.producer?.disconnect(), current.publisher?.disconnect()]);
    for (const v of running?.variants ?? []) v.dispose();
    // Left after the last publish: a standby takes over at once, from that snapshot's offsets.
    await current.lease?.release();
    current.lease = undefined;
    await app.close();
    backbone.runner.dispose();
    backbone.engine.runner.dispose();
    checkpoint.backbone.dispose();
  }

  async function shutDown(signal: NodeJS.Signals | undefined): Promise<void> {
    logger.info({ signal, role }, 'shutting down: finishing the step, publishing, leaving the group');
    // Bounded: with Kafka gone the last publish would retry for long; nothing is lost by giving up,
    // since a restarted updater resumes from the last published snapshot's offsets.
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown did not finish in time (is Kafka reachable?); exiting without the last publish');
        reject(new Error(`graceful shutdown did not finish within ${config.shutdownTimeoutMs} ms`));
      }, config.shutdownTimeoutMs);
      timer.unref();
    });
    const released = release(false);
    try {
      await Promise.race([released, deadline]);
    } catch (error) {
      // Past the deadline the release goes on (main.ts exits): it is not reported twice.
      released.catch(() => undefined);
      if (!late) logger.error({ err: String(error) }, 'graceful shutdown failed');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    app,
    metrics,
    backboneId: checkpoint.backboneId,
    backend: backend.name,
    engine: engine.engine,
    role: () => role,
    updater: () => current.updater,
    start: () => (starting ??= becomeActive()),
    stop: (signal) =>
      (stopping ??= steppedDown !== undefined ? steppedDown.then(() => release(true)) : shutDown(signal)),
  };
}
