import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { StreamError } from '../errors.js';
import type { Logger } from '../logger.js';
import { openBrokerHome, stopLeftoverBroker, wipeStorage, writeBrokerRecord } from './broker-home.js';
import { freePort, isPortFree } from './free-port.js';
import { DEFAULT_POM_PATH, ensureKafkaJars, KAFKA_VERSION } from './kafka-jars.js';

export interface LocalKafka {
  /** host:port of the broker's client listener. */
  readonly brokers: string[];
  readonly logFile: string;
  readonly pid: number;
  /** The KRaft cluster id the storage is formatted with (the same on every start of a kept dataDir). */
  readonly clusterId: string;
  /** True when a kept dataDir was already formatted by an earlier start and was reused as it was. */
  readonly reusedStorage: boolean;
  /**
   * SIGTERM, then SIGKILL after the timeout (default: stopTimeoutMs); then removes the data folder,
   * unless it is a kept dataDir. Safe to call twice.
   */
  stop(timeoutMs?: number): Promise<void>;
}

export interface LocalKafkaOptions {
  logger: Logger;
  cacheDir?: string;
  /** Java 17 binary; `java` on the PATH by default (config modules turn JAVA_HOME into this). */
  javaPath?: string;
  /** Client listener port; by default a free loopback port. */
  port?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Keep the temp folder (data and broker.log) after stop, for debugging. */
  keepFiles?: boolean;
  /**
   * Keep the broker's files in this folder across starts instead of a temp folder per start:
   * storage formatted on first use and reused after (same cluster id, topics and messages), the
   * previous start's ports preferred when free, a broker left running by a killed owner stopped
   * first. stop() leaves the folder in place.
   */
  dataDir?: string;
  /** With dataDir: delete the kept storage (every topic and message) before this start formats it anew. */
  freshStorage?: boolean;
  heapMb?: number;
  /** Topic auto-creation stays off by default so a service that forgot ensureTopics() fails loudly. */
  autoCreateTopics?: boolean;
}

/**
 * Starts a real single-node Apache Kafka broker (KRaft, combined broker + controller) on loopback,
 * from the official jars fetched by Maven. Each call gets a fresh temp folder holding the
 * formatted storage, the generated server.properties and the broker log, or the kept `dataDir`;
 * a failed start stops the process and removes a temp folder before the error (with the log
 * tail) is thrown.
 */
export async function startLocalKafka(options: LocalKafkaOptions): Promise<LocalKafka> {
  const { logger } = options;
  const libs = await ensureKafkaJars({ logger, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
  const java = options.javaPath ?? 'java';
  const home = await openBrokerHome(options.dataDir);
  const { logFile, propertiesFile } = home;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  // A broker must not outlive the process that started it, even when that process is killed.
  const killOnExit = (): void => void child?.kill('SIGKILL');
  const cleanup = async (timeoutMs = stopTimeoutMs): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child) await terminate(child, timeoutMs);
    if (!options.keepFiles && !home.kept) await rm(home.root, { recursive: true, force: true });
  };

  try {
    await stopLeftoverBroker(home, logger, stopTimeoutMs);
    // Only once no broker holds the storage any more: a live one would keep writing to deleted files.
    const fresh = options.freshStorage === true && home.kept;
    if (fresh) await wipeStorage(home);
    const formattedClusterId = fresh ? undefined : home.formattedClusterId;
    const port = options.port ?? (await preferredPort(home.previous?.port));
    const controllerPort = await preferredPort(home.previous?.controllerPort, port);
    await writeFile(propertiesFile, serverProperties({ port, controllerPort, dataDir: home.storageDir, autoCreateTopics: options.autoCreateTopics ?? false }));
    const classpath = join(libs, '*');
    const log4j = join(dirname(DEFAULT_POM_PATH), 'log4j.properties');
    const jvm = [`-Xmx${options.heapMb ?? 512}m`, '-Xms128m', '-XX:+UseSerialGC', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${log4j}`, '-cp', classpath];

    // Kept storage is formatted once: formatting again would refuse (or, told to ignore that,
    // leave the old cluster id in place anyway), so its meta.properties is the source of truth.
    const clusterId = formattedClusterId ?? kafkaClusterId();
    if (formattedClusterId === undefined) {
      await runToCompletion(java, [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile], logFile);
    }

    const out = createWriteStream(logFile, { flags: 'a' });
    // Its own process group: a Ctrl-C in the terminal signals the whole foreground group, and the
    // broker must outlive the services that are still publishing their last snapshot; the owner
    // stops it last (stop()), and the exit hook below kills it if the owner exits first.
    child = spawn(java, [...jvm, 'kafka.Kafka', propertiesFile], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    process.once('exit', killOnExit);

    const brokers = [`127.0.0.1:${port}`];
    await waitUntilReady(brokers, exited, options.startTimeoutMs ?? 60_000);
    const pid = child.pid ?? -1;
    const reusedStorage = formattedClusterId !== undefined;
    if (home.kept) await writeBrokerRecord(home, { port, controllerPort, brokerPid: pid, ownerPid: process.pid, startedAt: new Date().toISOString() });
    logger.info(
      { brokers, version: KAFKA_VERSION, pid, logFile, clusterId, ...(home.kept ? { dataDir: home.root, storage: reusedStorage ? 'reused' : 'new' } : {}) },
      'local Kafka broker started',
    );

    let stopping: Promise<void> | undefined;
    return {
      brokers,
      logFile,
      pid,
      clusterId,
      reusedStorage,
      stop: (timeoutMs?: number) => {
        stopping ??= (async () => {
          await cleanup(timeoutMs);
          logger.info({ brokers }, 'local Kafka broker stopped');
        })();
        return stopping;
      },
    };
  } catch (error) {
    const tail = await logTail(logFile);
    await cleanup();
    if (error instanceof StreamError) {
      throw new StreamError(error.code, `${error.message}${tail ? `\n--- broker log tail ---\n${tail}` : ''}`, { cause: error.cause });
    }
    throw new StreamError('RECO_ERR_BROKER_START', `local Kafka broker failed to start: ${String(error)}${tail ? `\n--- broker log tail ---\n${tail}` : ''}`, { cause: error });
  }
}

/** The port the previous start used, when it is free again (clients and logs keep the address); else any free one. */
async function preferredPort(previous: number | undefined, taken?: number): Promise<number> {
  if (previous !== undefined && previous !== taken && (await isPortFree(previous))) return previous;
  for (;;) {
    const port = await freePort();
    if (port !== taken) return port;
  }
}

function serverProperties(o: { port: number; controllerPort: number; dataDir: string; autoCreateTopics: boolean }): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${o.dataDir}`,
    `auto.create.topics.enable=${o.autoCreateTopics}`,
    'num.partitions=1',
    // Single node: internal topics cannot have more replicas than brokers.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // Groups form at once instead of waiting 3 s for more members: tests and demos join often.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (what kafka-storage random-uuid
 * prints). Like Kafka's own Uuid.randomUuid(), ids starting with '-' are drawn again: the storage
 * tool's argument parser would take one for an option (about 1 start in 64 failed before this).
 */
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function runToCompletion(command: string, args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    child.once('error', (cause) =>
      reject(new StreamError('RECO_ERR_BROKER_START', `cannot run Java at "${command}" (${(cause as NodeJS.ErrnoException).code ?? cause.message}): install Java 17 or set JAVA_HOME`, { cause })),
    );
    child.once('close', (code) => (code === 0 ? resolve() : reject(new StreamError('RECO_ERR_BROKER_START', `formatting KRaft storage failed (exit ${code})`))));
  });
}

async function waitUntilReady(brokers: string[], exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Each probe races the process exit: something else on the port may accept the connection and
  // never answer, and the broker that failed to bind exits while we wait.
  const died = exited.then((code) => {
    throw new StreamError('RECO_ERR_BROKER_START', `broker process exited with code ${code} before it was ready`);
  });
  died.catch(() => undefined);
  const probe = new Kafka({
    clientId: 'reco-local-kafka-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    const admin = probe.admin();
    try {
      await Promise.race([died, admin.connect().then(() => admin.describeCluster())]);
      return;
    } catch (error) {
      if (error instanceof StreamError) throw error;
      lastError = error;
    } finally {
      void admin.disconnect().catch(() => undefined);
    }
    await Promise.race([died, sleep(250)]);
  }
  throw new StreamError('RECO_ERR_BROKER_START', `broker not ready after ${timeoutMs} ms: ${String(lastError)}`);
}

async function terminate(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = sleep(timeoutMs).then(() => 'timeout' as const);
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

async function logTail(file: string, lines = 25): Promise<string> {
  if (!existsSync(file)) return '';
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
