import { describe, expect, it } from 'vitest';
import { StreamError } from './errors.js';
import { readKafkaConfig } from './kafka-config.js';

const base = { defaultClientId: 'reco-test' };

describe('readKafkaConfig', () => {
  it('reads brokers and defaults, frozen', () => {
    const config = readKafkaConfig({ KAFKA_BROKERS: 'a:9092, b:9093' }, base);
    expect(config).toMatchObject({ brokers: ['a:9092', 'b:9093'], clientId: 'reco-test', ssl: false, connectionTimeoutMs: 3000 });
    expect(config.sasl).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('uses fallback brokers only when KAFKA_BROKERS is unset', () => {
    expect(readKafkaConfig({}, { ...base, fallbackBrokers: ['127.0.0.1:1'] }).brokers).toEqual(['127.0.0.1:1']);
    expect(readKafkaConfig({ KAFKA_BROKERS: 'x:1' }, { ...base, fallbackBrokers: ['127.0.0.1:1'] }).brokers).toEqual(['x:1']);
  });

  it('reads SASL and SSL', () => {
    const config = readKafkaConfig(
      { KAFKA_BROKERS: 'a:9092', KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'me', KAFKA_SASL_PASSWORD: 'pw' },
      base,
    );
    expect(config.ssl).toBe(true);
    expect(config.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'me', password: 'pw' });
  });

  it.each([
    [{}, 'KAFKA_BROKERS is not set'],
    [{ KAFKA_BROKERS: 'nohostport' }, 'is not host:port'],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_SSL: 'yes please' }, 'KAFKA_SSL must be true or false'],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'is not one of'],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'plain' }, 'KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is missing'],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_SASL_USERNAME: 'u' }, 'without KAFKA_SASL_MECHANISM'],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_REQUEST_TIMEOUT_MS: '-5' }, 'must be a positive integer'],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' }, 'cannot be read'],
  ])('refuses impossible settings %j', (env, message) => {
    expect(() => readKafkaConfig(env, base)).toThrow(StreamError);
    expect(() => readKafkaConfig(env, base)).toThrow(message);
  });
});
