import { readKafkaConfig, type KafkaConfig } from '@reco/stream';

export interface ServingConfig {
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  readonly kafka: KafkaConfig;
}

/**
 * The only place the serving service reads its environment: once, at start-up, with defaults and
 * an error naming the variable when a value is impossible. Everything else receives slices of this.
 */
export function readServingConfig(env: Readonly<Record<string, string | undefined>>): ServingConfig {
  const port = Number(env.PORT ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a TCP port number, got "${env.PORT}"`);
  return Object.freeze({
    host: env.HOST ?? '127.0.0.1',
    port,
    logLevel: env.LOG_LEVEL ?? 'info',
    kafka: readKafkaConfig(env, { defaultClientId: 'reco-serving' }),
  });
}
