import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createKafkaClient,
  createLogger,
  ensureTopics,
  readKafkaConfig,
  readLogSettings,
  startLocalKafka,
  topicSpecs,
  type Kafka,
  type LocalKafka,
  type Logger,
  type TopicSpec,
} from '@reco/stream';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** What `npm start` and the benchmarks share: a broker, the topics and a backbone. */
export interface Stack {
  brokers: string;
  kafka: Kafka;
  topics: { events: TopicSpec; deadLetter: TopicSpec; adapters: TopicSpec };
  /** The local broker, when this process started one (stop it last). */
  localBroker: LocalKafka | undefined;
}

export async function prepareStack(options: {
  env: NodeJS.ProcessEnv;
  topicPrefix: string;
  say: (message: string) => void;
  /**
   * Where a local broker keeps its data across runs (npm start); without it the broker's data is
   * a temp folder removed when it stops (benchmarks). `fresh` wipes the kept data first.
   */
  keptBrokerData?: { dir: string; fresh: boolean };
  /** For the local broker's and KafkaJS's lines; by default createLogger's, named `stack`, at LOG_LEVEL. */
  logger?: Logger;
}): Promise<Stack> {
  const { env, say } = options;
  const logger = options.logger ?? createLogger({ name: 'stack', ...readLogSettings(env) });
  let brokers = env.KAFKA_BROKERS?.trim();
  let localBroker: LocalKafka | undefined;
  if (!brokers) {
    say('no KAFKA_BROKERS: starting a local Apache Kafka broker (the first run downloads its jars with Maven)');
    const kept = options.keptBrokerData;
    localBroker = await startLocalKafka({
      logger,
      ...(env.JAVA_HOME ? { javaPath: `${env.JAVA_HOME}/bin/java` } : {}),
      ...(env.RECO_CACHE_DIR ? { cacheDir: env.RECO_CACHE_DIR } : {}),
      ...(kept ? { dataDir: kept.dir, freshStorage: kept.fresh } : {}),
    });
    brokers = localBroker.brokers.join(',');
    if (kept) {
      say(
        localBroker.reusedStorage
          ? `broker data kept from earlier runs in ${kept.dir} (cluster ${localBroker.clusterId}; --fresh wipes it)`
          : `broker data in ${kept.dir}${kept.fresh ? ', wiped as --fresh asked' : ''} (kept across runs; --fresh wipes it)`,
      );
    }
  } else if (options.keptBrokerData?.fresh) {
    say('--fresh has nothing to wipe: KAFKA_BROKERS names an external cluster, whose data is left as it is');
  }
  const kafka = createKafkaClient(readKafkaConfig({ ...env, KAFKA_BROKERS: brokers }, { defaultClientId: 'reco-stack' }), logger);
  const topics = topicSpecs({ prefix: options.topicPrefix });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ensured = await ensureTopics(admin, [topics.events, topics.deadLetter, topics.adapters]);
    say(`topics ready (created: ${ensured.created.join(', ') || 'none'})`);
    for (const warning of ensured.warnings) say(`warning: ${warning}`);
  } finally {
    await admin.disconnect();
  }
  return { brokers, kafka, topics, localBroker };
}

/**
 * The backbone folder to serve: RECO_BACKBONE_DIR, else the synthetic one (`defaultDir`, by default
 * `<repo>/.cache/backbones/synthetic`), pretrained now (with its progress bar) when it does not
 * exist yet. `onChild` receives the pretraining process so a Ctrl-C can stop it.
 */
export async function ensureBackbone(options: {
  env: NodeJS.ProcessEnv;
  say: (message: string) => void;
  onChild?: (child: ReturnType<typeof spawn>) => void;
  defaultDir?: string;
}): Promise<string> {
  const dir = resolve(options.env.RECO_BACKBONE_DIR ?? options.defaultDir ?? join(repoRoot, '.cache', 'backbones', 'synthetic'));
  if (existsSync(join(dir, 'manifest.json'))) {
    options.say(`using the backbone at ${dir}`);
    return dir;
  }
  options.say(`no backbone at ${dir}: pretraining one on the synthetic world (a minute or two on 2 cores)`);
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', 'shared/model/src/cli/pretrain.ts', '--data', 'synthetic', '--out', dir], {
      cwd: repoRoot,
      env: options.env,
      stdio: 'inherit',
    });
    options.onChild?.(child);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`pretraining failed with exit code ${code}`))));
  });
  return dir;
}
