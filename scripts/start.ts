/**
 * `npm start`: the whole product on one machine, with embedded defaults.
 *
 *   1. a Kafka broker: KAFKA_BROKERS if set, else a local single-node Apache Kafka (Java 17 + Maven);
 *   2. the topics (ensureTopics);
 *   3. a backbone: the cached one, or pretrained now on the synthetic world (progress shown);
 *   4. the updater and serving, each as its own process, exactly as they run alone;
 *   5. a traffic simulator replaying the synthetic stream (`--no-simulate` turns it off).
 * Ctrl-C stops everything (simulator, services, broker) and leaves no process behind.
 *
 * Flags: --no-simulate  --clicks-per-second N (default 20)  --port N (serving, default 8080)
 *        --variants ladder,lora,bitfit (default ladder,lora)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { consoleLogger, createKafkaClient, ensureTopics, readKafkaConfig, startLocalKafka, topicSpecs, type LocalKafka } from '@reco/stream';
import { startTrafficSimulator } from './traffic-simulator.js';

const repoRoot = resolve(import.meta.dirname, '..');
const { values: flags } = parseArgs({
  options: {
    simulate: { type: 'boolean', default: true },
    'no-simulate': { type: 'boolean', default: false },
    'clicks-per-second': { type: 'string', default: '20' },
    port: { type: 'string', default: '8080' },
    'updater-port': { type: 'string', default: '9464' },
    variants: { type: 'string', default: 'ladder,lora' },
  },
});
const env = process.env;
const logger = consoleLogger('info');
const say = (message: string): void => void process.stdout.write(`[start] ${message}\n`);
const children: ChildProcess[] = [];
let broker: LocalKafka | undefined;
let simulator: ReturnType<typeof startTrafficSimulator> | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping...');
    await simulator?.stop();
    await Promise.all(children.map((child) => stopChild(child)));
    await broker?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Runs a TypeScript entry point of this repo with the workspace source condition, like the tests do. */
function runTs(script: string, args: string[], childEnv: NodeJS.ProcessEnv, name: string): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', join(repoRoot, script), ...args], {
    cwd: repoRoot,
    env: childEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping everything`);
      void shutdown(1);
    }
  });
  return child;
}

function runToEnd(script: string, args: string[], name: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', join(repoRoot, script), ...args], { cwd: repoRoot, env, stdio: 'inherit' });
    children.push(child);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${name} failed with exit code ${code}`))));
  });
}

try {
  // 1. Broker
  let brokers = env.KAFKA_BROKERS?.trim();
  if (!brokers) {
    say('no KAFKA_BROKERS: starting a local Apache Kafka broker (the first run downloads its jars with Maven)');
    broker = await startLocalKafka({ logger, ...(env.JAVA_HOME ? { javaPath: `${env.JAVA_HOME}/bin/java` } : {}), ...(env.RECO_CACHE_DIR ? { cacheDir: env.RECO_CACHE_DIR } : {}) });
    brokers = broker.brokers.join(',');
  }
  const kafkaEnv = { ...env, KAFKA_BROKERS: brokers };

  // 2. Topics
  const kafka = createKafkaClient(readKafkaConfig(kafkaEnv, { defaultClientId: 'reco-start' }), logger);
  const admin = kafka.admin();
  await admin.connect();
  const specs = topicSpecs({ prefix: env.RECO_TOPIC_PREFIX ?? '' });
  const topics = await ensureTopics(admin, [specs.events, specs.deadLetter, specs.adapters]);
  await admin.disconnect();
  say(`topics ready (created: ${topics.created.join(', ') || 'none'})`);
  for (const warning of topics.warnings) say(`warning: ${warning}`);

  // 3. Backbone
  const backboneDir = resolve(env.RECO_BACKBONE_DIR ?? join(repoRoot, '.cache', 'backbones', 'synthetic'));
  if (!existsSync(join(backboneDir, 'manifest.json'))) {
    say(`no backbone at ${backboneDir}: pretraining one on the synthetic world (about two minutes on 2 cores)`);
    await runToEnd('shared/model/src/cli/pretrain.ts', ['--data', 'synthetic', '--out', backboneDir], 'pretraining');
  } else {
    say(`using the backbone at ${backboneDir}`);
  }

  // 4. Services
  const serviceEnv = { ...kafkaEnv, RECO_BACKBONE_DIR: backboneDir };
  const adminToken = env.RECO_ADMIN_TOKEN ?? randomBytes(12).toString('hex');
  // Serving splits users deterministically over the trained variants and the frozen baseline.
  const split = [...flags.variants.split(',').map((v) => `${v.trim()}:1`), 'frozen:1'].join(',');
  children.push(runTs('services/updater/src/main.ts', [], { ...serviceEnv, PORT: flags['updater-port'], RECO_VARIANTS: flags.variants }, 'updater'));
  children.push(runTs('services/serving/src/main.ts', [], { ...serviceEnv, PORT: flags.port, RECO_VARIANT_SPLIT: split, RECO_ADMIN_TOKEN: adminToken }, 'serving'));
  const baseUrl = `http://127.0.0.1:${flags.port}`;
  await waitForReady(`${baseUrl}/readyz`, 120_000);

  // 5. Traffic
  if (flags.simulate && !flags['no-simulate']) {
    simulator = startTrafficSimulator({ baseUrl, clicksPerSecond: Number(flags['clicks-per-second']), log: say });
    say(`traffic simulator: ${flags['clicks-per-second']} clicks/s from the synthetic stream (--no-simulate to turn off)`);
  }
  say(
    [
      'up and running:',
      `  serving   ${baseUrl}   (API docs: ${baseUrl}/docs/json, metrics: ${baseUrl}/metrics)`,
      `  updater   http://127.0.0.1:${flags['updater-port']}/metrics`,
      `  kafka     ${brokers}`,
      'try:',
      `  curl '${baseUrl}/v1/recommendations?userId=u1&k=5'`,
      `  curl -X POST ${baseUrl}/v1/events -H 'content-type: application/json' -d '{"userId":"u1","itemId":"i42","type":"click","ts":'$(date +%s000)'}'`,
      `  curl ${baseUrl}/v1/models`,
      `  curl -X POST ${baseUrl}/v1/models/ladder/rollback -H 'authorization: Bearer ${adminToken}'`,
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
} catch (error) {
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs / 1000} s`);
}
