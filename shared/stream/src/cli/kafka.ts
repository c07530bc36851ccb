/**
 * `npm run kafka`: a local single-node Kafka broker in the foreground, for people who want one to
 * play with. Ctrl-C stops it and removes its data. Env: RECO_CACHE_DIR (jar cache), JAVA_HOME,
 * KAFKA_PORT (client port; a free one by default), RECO_KAFKA_KEEP_FILES=true to keep data and log,
 * LOG_LEVEL and RECO_LOG_PRETTY (readLogSettings).
 */
import { createLogger, readLogSettings } from '../logger.js';
import { startLocalKafka } from '../local-kafka/local-kafka.js';

const env = process.env;
const logger = createLogger({ name: 'kafka', ...readLogSettings(env), destination: 'stderr' });
const port = env.KAFKA_PORT ? Number(env.KAFKA_PORT) : undefined;
if (port !== undefined && (!Number.isInteger(port) || port <= 0 || port > 65535)) {
  console.error(`KAFKA_PORT must be a TCP port number, got "${env.KAFKA_PORT}"`);
  process.exit(2);
}

const kafka = await startLocalKafka({
  logger,
  ...(env.RECO_CACHE_DIR ? { cacheDir: env.RECO_CACHE_DIR } : {}),
  ...(env.JAVA_HOME ? { javaPath: `${env.JAVA_HOME}/bin/java` } : {}),
  ...(port ? { port } : {}),
  keepFiles: env.RECO_KAFKA_KEEP_FILES === 'true',
  autoCreateTopics: true,
});
console.log(`\nKafka is up: KAFKA_BROKERS=${kafka.brokers.join(',')}\nBroker log: ${kafka.logFile}\nCtrl-C to stop.\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void kafka.stop().then(() => process.exit(0));
  });
}
