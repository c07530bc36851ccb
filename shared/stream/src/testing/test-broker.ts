import { request } from 'node:http';
import { existsSync } from 'node:fs';
import type { Logger } from '../logger.js';
import { startLocalKafka } from '../local-kafka/local-kafka.js';

export interface TestBroker {
  brokers: string[];
  kind: 'external' | 'testcontainers' | 'local';
  stop(): Promise<void>;
}

/** Kafka 3.9.x in Confluent's packaging (cp-kafka 7.9 = Apache Kafka 3.9), to match the local broker's pin. */
export const TESTCONTAINERS_KAFKA_IMAGE = 'confluentinc/cp-kafka:7.9.1';

/**
 * The one place that decides which real broker a test run uses:
 *   1. KAFKA_BROKERS set: that cluster (nothing is started or stopped);
 *   2. a Docker engine answers: a Kafka container via @testcontainers/kafka (untested on machines
 *      without Docker, such as the one this repo is developed on);
 *   3. otherwise: the local Apache Kafka broker launched with Java (startLocalKafka).
 */
export async function startTestBroker(options: {
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  cacheDir?: string;
}): Promise<TestBroker> {
  const external = options.env.KAFKA_BROKERS?.trim();
  if (external) {
    return { kind: 'external', brokers: external.split(',').map((b) => b.trim()), stop: async () => undefined };
  }
  const socket = dockerSocketPath(options.env);
  if (socket && (await dockerEngineAnswers(socket))) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer(TESTCONTAINERS_KAFKA_IMAGE).withKraft().start();
    return {
      kind: 'testcontainers',
      brokers: [`${container.getHost()}:${container.getMappedPort(9093)}`],
      stop: async () => {
        await container.stop();
      },
    };
  }
  const local = await startLocalKafka({
    logger: options.logger,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.env.JAVA_HOME ? { javaPath: `${options.env.JAVA_HOME}/bin/java` } : {}),
  });
  return { kind: 'local', brokers: local.brokers, stop: () => local.stop() };
}

function dockerSocketPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  if (host) return undefined; // tcp:// engines: leave to testcontainers users to set KAFKA_BROKERS
  return existsSync('/var/run/docker.sock') ? '/var/run/docker.sock' : undefined;
}

/** A Docker client binary proves nothing; ask the engine itself (GET /_ping) with a short timeout. */
function dockerEngineAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}
