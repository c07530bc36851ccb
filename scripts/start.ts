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
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { LocalKafka } from '@reco/stream';
import { startService, type ServiceProcess } from './lib/service-process.js';
import { ensureBackbone, prepareStack } from './lib/stack.js';
import { startTrafficSimulator } from './traffic-simulator.js';

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
const say = (message: string): void => void process.stdout.write(`[start] ${message}\n`);
const services: ServiceProcess[] = [];
let pretraining: ChildProcess | undefined;
let broker: LocalKafka | undefined;
let simulator: ReturnType<typeof startTrafficSimulator> | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping...');
    await simulator?.stop();
    pretraining?.kill('SIGTERM');
    await Promise.all(services.map((service) => service.stop()));
    await broker?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
// A closed terminal: stop as on Ctrl-C (the broker runs in its own process group and would not hear it).
process.on('SIGHUP', () => void shutdown(0));

try {
  // 1-3. Broker, topics, backbone
  const stack = await prepareStack({ env, topicPrefix: env.RECO_TOPIC_PREFIX ?? '', say });
  broker = stack.localBroker;
  const backboneDir = await ensureBackbone({ env, say, onChild: (child) => (pretraining = child) });

  // 4. Services
  const serviceEnv = { ...env, KAFKA_BROKERS: stack.brokers, RECO_BACKBONE_DIR: backboneDir };
  const adminToken = env.RECO_ADMIN_TOKEN ?? randomBytes(12).toString('hex');
  // Serving splits users deterministically over the trained variants and the frozen baseline.
  const split = [...flags.variants.split(',').map((v) => `${v.trim()}:1`), 'frozen:1'].join(',');
  const onExit = (name: string) => (code: number | null) => {
    say(`${name} exited (${code}); stopping everything`);
    void shutdown(1);
  };
  // Each service joins `services` as soon as it is up, so a failure of the other still stops it.
  const started = (service: ServiceProcess): ServiceProcess => (services.push(service), service);
  const [, serving] = await Promise.all([
    startService('updater', { ...serviceEnv, RECO_VARIANTS: flags.variants }, { port: Number(flags['updater-port']), output: 'inherit', onUnexpectedExit: onExit('updater') }).then(started),
    startService('serving', { ...serviceEnv, RECO_VARIANTS: flags.variants, RECO_VARIANT_SPLIT: split, RECO_ADMIN_TOKEN: adminToken }, { port: Number(flags.port), output: 'inherit', onUnexpectedExit: onExit('serving') }).then(started),
  ]);
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
      `  kafka     ${stack.brokers}`,
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
