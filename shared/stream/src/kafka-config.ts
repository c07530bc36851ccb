import { readFileSync } from 'node:fs';
import { StreamError } from './errors.js';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** false: plaintext; true: TLS with the system CAs; an object: TLS with a custom CA. */
  readonly ssl: boolean | { readonly ca: string };
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/**
 * Reads the Kafka connection settings from an environment once, at the edge of a process:
 *   KAFKA_BROKERS            comma-separated host:port list (required unless `fallbackBrokers` is given)
 *   KAFKA_CLIENT_ID          defaults to `defaultClientId`
 *   KAFKA_SSL                "true" to use TLS; KAFKA_SSL_CA_FILE for a private CA (implies TLS)
 *   KAFKA_SASL_MECHANISM     plain | scram-sha-256 | scram-sha-512, with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD
 *   KAFKA_CONNECTION_TIMEOUT_MS, KAFKA_REQUEST_TIMEOUT_MS
 * Impossible combinations throw here, at start-up, rather than on the first request.
 */
export function readKafkaConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: { defaultClientId: string; fallbackBrokers?: readonly string[] },
): KafkaConfig {
  const fail = (message: string): never => {
    throw new StreamError('RECO_ERR_KAFKA_CONFIG', message);
  };
  const rawBrokers = env.KAFKA_BROKERS?.trim();
  const brokers = rawBrokers
    ? rawBrokers.split(',').map((b) => b.trim()).filter((b) => b.length > 0)
    : [...(options.fallbackBrokers ?? [])];
  if (brokers.length === 0) fail('KAFKA_BROKERS is not set: give a comma-separated list of host:port');
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) fail(`KAFKA_BROKERS entry "${broker}" is not host:port`);
  }

  let ssl: KafkaConfig['ssl'] = parseBool(env.KAFKA_SSL, 'KAFKA_SSL', fail);
  const caFile = env.KAFKA_SSL_CA_FILE?.trim();
  if (caFile) {
    try {
      ssl = { ca: readFileSync(caFile, 'utf8') };
    } catch (cause) {
      throw new StreamError('RECO_ERR_KAFKA_CONFIG', `KAFKA_SSL_CA_FILE ${caFile} cannot be read`, { cause });
    }
  }

  const mechanism = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  const username = env.KAFKA_SASL_USERNAME;
  const password = env.KAFKA_SASL_PASSWORD;
  let sasl: KafkaConfig['sasl'];
  if (mechanism) {
    if (!MECHANISMS.includes(mechanism as SaslMechanism)) {
      fail(`KAFKA_SASL_MECHANISM "${mechanism}" is not one of ${MECHANISMS.join(', ')}`);
    }
    if (!username || !password) fail('KAFKA_SASL_MECHANISM is set but KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is missing');
    sasl = { mechanism: mechanism as SaslMechanism, username: username ?? '', password: password ?? '' };
  } else if (username || password) {
    fail('KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set without KAFKA_SASL_MECHANISM');
  }

  return Object.freeze({
    brokers: Object.freeze(brokers),
    clientId: env.KAFKA_CLIENT_ID?.trim() || options.defaultClientId,
    ssl,
    ...(sasl ? { sasl: Object.freeze(sasl) } : {}),
    connectionTimeoutMs: parsePositiveInt(env.KAFKA_CONNECTION_TIMEOUT_MS, 3000, 'KAFKA_CONNECTION_TIMEOUT_MS', fail),
    requestTimeoutMs: parsePositiveInt(env.KAFKA_REQUEST_TIMEOUT_MS, 30000, 'KAFKA_REQUEST_TIMEOUT_MS', fail),
  });
}

function parseBool(value: string | undefined, name: string, fail: (m: string) => never): boolean {
  if (value === undefined || value.trim() === '') return false;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return fail(`${name} must be true or false, got "${value}"`);
}

function parsePositiveInt(value: string | undefined, fallback: number, name: string, fail: (m: string) => never): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) return fail(`${name} must be a positive integer, got "${value}"`);
  return n;
}
