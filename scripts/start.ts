/**
 * `npm start`: the whole product on one machine, with embedded defaults.
 *
 *   1. a Kafka broker: KAFKA_BROKERS if set, else a local single-node Apache Kafka (Java 17 + Maven)
 *      whose data is kept in the cache folder across runs (`--fresh` wipes it);
 *   2. the topics (ensureTopics);
 *   3. a backbone: the cached one, or pretrained now on the synthetic world (progress shown), or
 *      with `--data movielens` on ../shared/data/movielens-latest-small beside the repo (the real
 *      data set's defaults; titles and categories from its movies.csv, kept in the checkpoint);
 *   4. the updater and serving, each as its own process, exactly as they run alone, sharing the
 *      cache folder's snapshot signing key (RECO_SNAPSHOT_KEY); a service that dies later is
 *      restarted with a growing delay while the broker and the other service keep running;
 *   5. a traffic simulator replaying the synthetic stream, or the real data set's later part (the
 *      events after the pretraining split), in order (`--no-simulate` turns it off).
 * Everything logs through @reco/stream's createLogger: pretty lines on a terminal, JSON lines
 * otherwise (RECO_LOG_PRETTY=1/0 decides instead; the services inherit it and LOG_LEVEL). Start-up
 * ends with a status block: URLs, the admin token, the cache folder.
 * Ctrl-C (or SIGTERM) stops everything (simulator, services, broker) within 10 s and leaves no
 * process behind; the broker's data stays for the next run.
 *
 * Flags: --data synthetic|movielens|<folder with ratings.csv> (default synthetic)  --no-simulate  --clicks-per-second N (default 20)  --port N (serving, default 8080)
 *        --updater-port N (default 9464)  --variants ladder,lora,bitfit (default ladder,lora)
 *        --cache-dir DIR (default <repo>/.cache)  --fresh (start with empty broker data)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, readLogSettings, writesPretty, type LocalKafka } from '@reco/stream';
import { startService } from './lib/service-process.js';
import { ServiceSupervisor } from './lib/service-supervisor.js';
import { ensureSnapshotKey } from './lib/snapshot-key.js';
import { ensureBackbone, prepareStack, repoRoot } from './lib/stack.js';
import { startCache } from './lib/start-cache.js';
import { PRETRAIN_FRACTION, replayOf, startTrafficSimulator } from './traffic-simulator.js';

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
    data: { type: 'string', default: 'synthetic' },
  },
});
const env = process.env;
const logSettings = readLogSettings(env);
// LOG_LEVEL is for the services; the launcher's own lines (its progress, the status block) show
// unless it asks for more.
const log = createLogger({ name: 'start', pretty: logSettings.pretty, level: logSettings.level === 'trace' || logSettings.level === 'debug' ? logSettings.level : 'info' });
const say = (message: string): void => log.info({}, message);
const cache = startCache(flags['cache-dir']);

/** The real data set `--data movielens` names: beside the repo, never inside it. */
const MOVIELENS_DIR = resolve(repoRoot, '..', 'shared', 'data', 'movielens-latest-small');

/** Which data the product runs on: the synthetic world, or a folder holding a ratings.csv. */
function chosenData(spec: string): { kind: 'synthetic' } | { kind: 'real'; dir: string; name: string } {
  if (spec === 'synthetic') return { kind: 'synthetic' };
  const dir = spec === 'movielens' ? MOVIELENS_DIR : resolve(spec);
  if (!existsSync(join(dir, 'ratings.csv'))) {
    const where = spec === 'movielens' ? `MovieLens latest-small is expected at ${dir} (ratings.csv and movies.csv, from https://grouplens.org/datasets/movielens/latest/)` : `no ratings.csv in ${dir}`;
    say(`--data ${spec}: ${where}; nothing was started. Without it, \`npm start\` runs on the synthetic world.`);
    process.exit(2);
  }
  return { kind: 'real', dir, name: basename(dir) };
}

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

const data = chosenData(flags.data);

/**
 * A real data set's backbone: RECO_BACKBONE_DIR, else `<cache>/backbones/<folder name>`,
 * pretrained now with the pretrain CLI's defaults for real data (its progress bar shows; this
 * takes longer than the synthetic world). The checkpoint keeps the data set's titles and categories.
 */
async function ensureRealBackbone(dir: string, name: string): Promise<string> {
  const out = resolve(env.RECO_BACKBONE_DIR ?? cache.backboneDir(name));
  if (existsSync(join(out, 'manifest.json'))) {
    say(`using the ${name} backbone at ${out}`);
    return out;
  }
  say(`no backbone at ${out}: pretraining one on ${dir} (the first ${Math.round(PRETRAIN_FRACTION * 100)}% of its events; several minutes on 2 cores)`);
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', 'shared/model/src/cli/pretrain.ts', '--data', dir, '--out', out], { cwd: repoRoot, env, stdio: 'inherit' });
    pretraining = child;
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`pretraining on ${name} failed with exit code ${code}`))));
  });
  return out;
}

try {
  // 1-3. Broker, topics, backbone, signing key
  const stack = await prepareStack({ env, topicPrefix: env.RECO_TOPIC_PREFIX ?? '', say, logger: log, keptBrokerData: { dir: cache.kafkaDir, fresh: flags.fresh } });
  broker = stack.localBroker;
  const backboneDir =
    data.kind === 'synthetic' ? await ensureBackbone({ env, say, defaultDir: cache.backboneDir('synthetic'), onChild: (child) => (pretraining = child) }) : await ensureRealBackbone(data.dir, data.name);
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
  let exampleUser = 'u1';
  if (flags.simulate && !flags['no-simulate']) {
    const replay = data.kind === 'real' ? await replayOf(data.dir) : undefined;
    exampleUser = replay?.stream[0]?.userId ?? exampleUser;
    simulator = startTrafficSimulator({ baseUrl, clicksPerSecond: Number(flags['clicks-per-second']), log: say, ...(replay === undefined ? {} : { stream: replay.stream }) });
    const source = replay === undefined ? 'the synthetic stream' : `${replay.name}'s later part (${replay.stream.length} events, in order)`;
    say(`traffic simulator: ${flags['clicks-per-second']} clicks/s from ${source} (--no-simulate to turn off)`);
  } else if (data.kind === 'real') {
    exampleUser = (await replayOf(data.dir)).stream[0]?.userId ?? exampleUser;
  }
  const status = {
    dashboard: `${baseUrl}/`,
    serving: baseUrl,
    docs: `${baseUrl}/docs`,
    metrics: `${baseUrl}/metrics`,
    updaterMetrics: `http://127.0.0.1:${flags['updater-port']}/metrics`,
    kafka: stack.brokers,
    cache: cache.root,
    adminToken,
  };
  const pretty = writesPretty(logSettings);
  // One record: on a terminal the block reads as it is; as JSON its fields are there for a script too.
  log.info(
    pretty ? {} : { status },
    [
      'up and running:',
      `  dashboard    ${status.dashboard}`,
      `  serving      ${status.serving}   (API docs: ${status.docs}, metrics: ${status.metrics})`,
      `  updater      ${status.updaterMetrics}`,
      `  kafka        ${status.kafka}${broker ? `   (data and broker.log in ${cache.kafkaDir})` : ''}`,
      `  cache        ${status.cache}`,
      `  admin token  ${adminToken}   (${env.RECO_ADMIN_TOKEN ? 'from RECO_ADMIN_TOKEN' : 'made for this run; set RECO_ADMIN_TOKEN to choose it'}; rollback and item writes)`,
      `  logs         ${pretty ? 'pretty' : 'JSON lines'} at ${logSettings.level} (RECO_LOG_PRETTY=1/0 switches; LOG_LEVEL=debug shows requests and Kafka's start-up retries)`,
      'try:',
      `  curl '${baseUrl}/v1/recommendations?userId=${encodeURIComponent(exampleUser)}&k=5'`,
      `  curl -X POST ${baseUrl}/v1/events -H 'content-type: application/json' -d '{"userId":"u1","itemId":"i42","type":"click","ts":'$(date +%s000)'}'`,
      `  curl ${baseUrl}/v1/models`,
      `  curl -X POST ${baseUrl}/v1/models/ladder/rollback -H 'authorization: Bearer ${adminToken}'`,
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
} catch (error) {
  if (!stopping) {
    log.error({}, `failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1, 'start failed');
  }
}
