import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StreamError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Pinned broker version; see infra/kafka/pom.xml for why 3.9.x. */
export const KAFKA_VERSION = '3.9.1';

/** infra/kafka/pom.xml, found from this file in src/ and in dist/ alike (both are 4 levels deep). */
export const DEFAULT_POM_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'infra', 'kafka', 'pom.xml');

export function defaultCacheDir(): string {
  return join(homedir(), '.cache', 'reco');
}

export interface KafkaJarsOptions {
  /** Root of the cache; the jars land in `<cacheDir>/kafka-<version>/libs`. */
  cacheDir?: string;
  pomPath?: string;
  mavenCommand?: string;
  logger: Logger;
}

/**
 * Returns the folder holding the Apache Kafka broker jars, fetching them with Maven on first use.
 * Maven resolves org.apache.kafka:kafka_2.13 and its runtime dependencies from Maven Central into
 * ~/.m2 and copies them into a staging folder, which is renamed into place only when complete, so
 * an interrupted download is never mistaken for a usable broker.
 */
export async function ensureKafkaJars(options: KafkaJarsOptions): Promise<string> {
  const home = join(options.cacheDir ?? defaultCacheDir(), `kafka-${KAFKA_VERSION}`);
  const libs = join(home, 'libs');
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;

  const pomPath = options.pomPath ?? DEFAULT_POM_PATH;
  if (!existsSync(pomPath)) throw new StreamError('RECO_ERR_BROKER_JARS', `Kafka broker pom not found at ${pomPath}`);
  await mkdir(home, { recursive: true });
  const staging = join(home, `libs.staging-${process.pid}-${Date.now()}`);
  options.logger.info({ version: KAFKA_VERSION, into: libs }, 'fetching Apache Kafka broker jars with Maven (first run only)');
  const started = Date.now();
  await runMaven(options.mavenCommand ?? 'mvn', ['-B', '-f', pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`, '-DincludeScope=runtime'], options.logger);
  const jars = (await readdir(staging)).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
    await rm(staging, { recursive: true, force: true });
    throw new StreamError('RECO_ERR_BROKER_JARS', `Maven finished but kafka_2.13-${KAFKA_VERSION}.jar is not in ${staging}`);
  }
  await writeFile(join(staging, '.complete'), `${new Date().toISOString()}\n`);
  try {
    await rename(staging, libs);
  } catch (error) {
    // Another process finished the same download first; theirs is as good as ours.
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(marker)) throw new StreamError('RECO_ERR_BROKER_JARS', `could not move the Kafka jars into ${libs}`, { cause: error });
  }
  options.logger.info({ jars: jars.length, seconds: (Date.now() - started) / 1000 }, 'Kafka broker jars ready');
  return libs;
}

function runMaven(command: string, args: string[], logger: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let downloaded = 0;
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      // Maven prints one "Downloaded from" line per artifact: that is our progress.
      if (line.includes('Downloaded from')) {
        downloaded += 1;
        if (downloaded % 10 === 0) logger.info({ artifacts: downloaded }, 'Maven download progress');
      }
    };
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (cause) =>
      reject(new StreamError('RECO_ERR_BROKER_JARS', `could not run Maven (${command}): install Maven 3, or set KAFKA_BROKERS to use an existing cluster`, { cause })),
    );
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new StreamError('RECO_ERR_BROKER_JARS', `Maven exited with ${code} while fetching the Kafka jars:\n${tail.join('\n')}`));
    });
  });
}
