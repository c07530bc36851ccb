/**
 * `npm start`: the whole product on one machine, with embedded defaults.
 *
 *   1. a Kafka broker: KAFKA_BROKERS if set, else a local single-node Apache Kafka (Java 17 + Maven)
 *      whose data is kept in the cache folder across runs (`--fresh` wipes it);
 *   2. the topics (ensureTopics);
 *   3. a backbone: the cached one, or pretrained now on the synthetic world (progress shown);
 *   4. the updater and serving, each as its own process, exactly as they run alone, sharing the
 *      cache folder's snapshot signing key (RECO_SNAPSHOT_KEY); a service that dies later is
 *      restarted with a growing delay while the broker and the other service keep running;
 *   5. a traffic simulator replaying the synthetic stream (`--no-simulate` turns it off).
 * Ctrl-C (or SIGTERM) stops everything (simulator, services, broker) within 10 s and leaves no
 * process behind; the broker's data stays for the next run.
 *
 * Flags: --no-simulate  --clicks-per-second N (default 20)  --port N (serving, default 8080)
 *        --updater-port N (default 9464)  --variants ladder,lora,bitfit (default ladder,lora)
 *        --cache-dir DIR (default <repo>/.cache)  --fresh (start with empty broker data)
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LocalKafka } from '@reco/stream';
import { startService } from './lib/service-process.js';
import { ServiceSupervisor } from './lib/service-supervisor.js';
import { ensureSnapshotKey } from './lib/snapshot-key.js';
import { ensureBackbone, prepareStack, repoRoot } from './lib/stack.js';
import { startCache } from './lib/start-cache.js';
import { startTrafficSimulator } from './traffic-simulator.js';

const { values: flags } = parseArgs({
  options: {
    simulate: { type: 'boolean', default: true },
    'no-simulate': { type: 'boolean', default: false },
    'clicks-per-second': { type: 'string', default: '20' },
    port: { type: 'string', default: '8080' },
    'updater-port': { type: 'string', default: '9464' },
    variants: { type: 'string', default: 'ladder,lora' },
    'cache-dir': { type: 'string', default: join(repoRoot, '.cache') },
    fresh: { type: 'boolean', default: false },
  },
});
const env = process.env;
const say = (message: string): void => void process.stdout.write(`[start] ${message}\n`);
const cache = startCache(flags['cache-dir']);

// Ctrl-C must be done within 10 s: the services get 6 s to finish their last publish and leave
// their groups, the broker what is left of 9 s for a clean shutdown, and at 9.5 s whatever still
// runs is killed (a broker killed mid-shutdown recovers its logs on the next start).
const SERVICE_STOP_MS = 6000;
const BROKER_STOP_BY_MS = 9000;
const FORCE_EXIT_AT_MS = 9500;

const supervisors: ServiceSupervisor[] = [];
let pretraining: ChildProcess | undefined;
let broker: LocalKafka | undefined;
let simulator: ReturnType<typeof startTrafficSimulator> | undefined;
let stopping = false;

function killEverythingNow(code: number): never {
  pretraining?.kill('SIGKILL');
  for (const supervisor of supervisors) void supervisor.current?.kill();
  process.exit(code); // the local broker's exit hook SIGKILLs it
}

async function shutdown(code: number, why: string): Promise<void> {
  if (stopping) {
    say(`${why} again: not waiting any longer`);
    killEverythingNow(code);
  }
  stopping = true;
  const began = Date.now();
  say(`${why}: stopping the simulator, both services and the broker (broker data is kept)...`);
  setTimeout(() => {
    say(`still not stopped after ${FORCE_EXIT_AT_MS / 1000} s: killing what is left`);
    killEverythingNow(code === 0 ? 1 : code);
  }, FORCE_EXIT_AT_MS).unref();
  await simulator?.stop();
  pretraining?.kill('SIGTERM');
  await Promise.all(supervisors.map((supervisor) => supervisor.stop(SERVICE_STOP_MS)));
  await broker?.stop(Math.max(1000, BROKER_STOP_BY_MS - (Date.now() - began)));
  say(`stopped in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0, 'Ctrl-C'));
process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
// A closed terminal: stop as on Ctrl-C (the broker runs in its own process group and would not hear it).
process.on('SIGHUP', () => void shutdown(0, 'terminal closed'));

try {
  // 1-3. Broker, topics, backbone, signing key
  const stack = await prepareStack({ env, topicPrefix: env.RECO_TOPIC_PREFIX ?? '', say, keptBrokerData: { dir: cache.kafkaDir, fresh: flags.fresh } });
  broker = stack.localBroker;
  const backboneDir = await ensureBackbone({ env, say, defaultDir: cache.backboneDir('synthetic'), onChild: (child) => (pretraining = child) });
  const snapshotKey = env.RECO_SNAPSHOT_KEY ?? (await ensureSnapshotKey(cache.snapshotKeyFile, say));
  if (env.RECO_SNAPSHOT_KEY) say('using the snapshot signing key from RECO_SNAPSHOT_KEY');

  // 4. Services
  const serviceEnv = {
    ...env,
    KAFKA_BROKERS: stack.brokers,
    RECO_BACKBONE_DIR: backboneDir,
    RECO_SNAPSHOT_KEY: snapshotKey,
    // The updater's own bound on its last publish, inside the launcher's 10 s for Ctrl-C.
    RECO_SHUTDOWN_TIMEOUT_MS: env.RECO_SHUTDOWN_TIMEOUT_MS ?? String(SERVICE_STOP_MS - 1000),
  };
  const adminToken = env.RECO_ADMIN_TOKEN ?? randomBytes(12).toString('hex');
  // Serving splits users deterministically over the trained variants and the frozen baseline.
  const split = [...flags.variants.split(',').map((v) => `${v.trim()}:1`), 'frozen:1'].join(',');
  const updater = new ServiceSupervisor(
    'updater',
    (hooks) => startService('updater', { ...serviceEnv, RECO_VARIANTS: flags.variants }, { port: Number(flags['updater-port']), output: 'inherit', ...hooks }),
    say,
    {
      restartNote: `a restarted updater is ready once Kafka has let go of the dead one's group membership: up to RECO_SESSION_TIMEOUT_MS (${env.RECO_SESSION_TIMEOUT_MS ?? '30000'} ms); it resumes from its last published snapshot`,
    },
  );
  const servingSupervisor = new ServiceSupervisor(
    'serving',
    (hooks) =>
      startService('serving', { ...serviceEnv, RECO_VARIANTS: flags.variants, RECO_VARIANT_SPLIT: split, RECO_ADMIN_TOKEN: adminToken }, { port: Number(flags.port), output: 'inherit', ...hooks }),
    say,
  );
  // Both join `supervisors` before starting, so a failure of one (or a Ctrl-C) still stops the other.
  supervisors.push(updater, servingSupervisor);
  const [, serving] = await Promise.all([updater.start(), servingSupervisor.start()]);
  const baseUrl = serving.url;

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
      `  kafka     ${stack.brokers}${broker ? `   (data and broker.log in ${cache.kafkaDir})` : ''}`,
      `  cache     ${cache.root}`,
      'try:',
      `  curl '${baseUrl}/v1/recommendations?userId=u1&k=5'`,
      `  curl -X POST ${baseUrl}/v1/events -H 'content-type: application/json' -d '{"userId":"u1","itemId":"i42","type":"click","ts":'$(date +%s000)'}'`,
      `  curl ${baseUrl}/v1/models`,
      `  curl -X POST ${baseUrl}/v1/models/ladder/rollback -H 'authorization: Bearer ${adminToken}'`,
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
} catch (error) {
  if (!stopping) {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1, 'start failed');
  }
}
