import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STREAM_ERRORS, StreamError, isRetriable } from './errors.js';
import { brokerGoneCrash, kafkaJsError, protocolError } from './testing/kafkajs-errors.js';

const refused = (): Error => kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' });
const createErrorFromCode = protocolError;

describe('error catalogue', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it.each(Object.keys(STREAM_ERRORS))('%s is documented in the package README', (code) => {
    expect(readme).toContain(code);
  });

  it('every error carries its code, status and retriability', () => {
    const error = new StreamError('RECO_ERR_KAFKA_UNAVAILABLE', 'down', { cause: new Error('root') });
    expect(error).toMatchObject({ code: 'RECO_ERR_KAFKA_UNAVAILABLE', status: 503, retriable: true });
    expect((error.cause as Error).message).toBe('root');
  });

  it('classifies retriable failures in one place', () => {
    expect(isRetriable(new StreamError('RECO_ERR_KAFKA_CONFIG', 'x'))).toBe(false);
    expect(isRetriable(Object.assign(new Error('kafkajs'), { retriable: true }))).toBe(true);
    expect(isRetriable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetriable(new TypeError('bug'))).toBe(false);
    expect(isRetriable('a string')).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
  });
});

describe('isRetriable during a broker restart (the error shapes KafkaJS produces)', () => {
  it('a connection refused after the retries ran out, however KafkaJS wraps it, is retriable', () => {
    // What a consumer crashed with when the broker was killed: KafkaJSNonRetriableError around
    // the connection error (the outer flag is false; reading only it stopped consumers for good).
    const crash = brokerGoneCrash();
    expect((crash as { retriable?: boolean }).retriable).toBe(false);
    expect(isRetriable(crash)).toBe(true);
    const exhausted = kafkaJsError('KafkaJSNumberOfRetriesExceeded', refused(), { retryCount: 5, retryTime: 5000 });
    expect((exhausted as { retriable?: boolean }).retriable).toBe(false);
    expect(isRetriable(exhausted)).toBe(true);
    expect(isRetriable(kafkaJsError('KafkaJSNonRetriableError', exhausted, { cause: exhausted }))).toBe(true);
    expect(isRetriable(kafkaJsError('KafkaJSConnectionClosedError', 'Closed connection', { host: '127.0.0.1', port: 9092 }))).toBe(true);
    expect(isRetriable(kafkaJsError('KafkaJSRequestTimeoutError', 'Request GroupCoordinator(key: 10, version: 2) timed out'))).toBe(true);
  });

  it('a coordinator that is missing or loading and a leader that moved are retriable', () => {
    expect(isRetriable(kafkaJsError('KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator'))).toBe(true);
    expect(isRetriable(kafkaJsError('KafkaJSLockTimeout', 'Timeout while acquiring lock (1 waiting locks): "updating target topics"'))).toBe(true);
    for (const code of [6 /* NOT_LEADER_FOR_PARTITION */, 14 /* GROUP_LOAD_IN_PROGRESS */, 15 /* GROUP_COORDINATOR_NOT_AVAILABLE */, 16 /* NOT_COORDINATOR_FOR_GROUP */, 3 /* UNKNOWN_TOPIC_OR_PARTITION */, 41 /* NOT_CONTROLLER */]) {
      expect(isRetriable(protocolError(code)), `protocol error ${code}`).toBe(true);
      expect(isRetriable(kafkaJsError('KafkaJSNumberOfRetriesExceeded', protocolError(code), { retryCount: 8, retryTime: 5000 })), `exhausted ${code}`).toBe(true);
    }
  });

  it('a group that forgot this member after the restart is fixed by joining again', () => {
    for (const code of [25 /* UNKNOWN_MEMBER_ID */, 22 /* ILLEGAL_GENERATION */, 27 /* REBALANCE_IN_PROGRESS */]) {
      expect(createErrorFromCode(code).retriable).toBe(false);
      expect(isRetriable(kafkaJsError('KafkaJSNonRetriableError', protocolError(code), { cause: protocolError(code) })), `protocol error ${code}`).toBe(true);
    }
  });

  it('bugs, bad credentials and refused configs are never retried, even inside a retriable wrapper', () => {
    expect(isRetriable(kafkaJsError('KafkaJSNonRetriableError', new TypeError('x is undefined'), { cause: new TypeError('x is undefined') }))).toBe(false);
    expect(isRetriable(kafkaJsError('KafkaJSNumberOfRetriesExceeded', new RangeError('bad'), { retryCount: 5, retryTime: 1 }))).toBe(false);
    expect(isRetriable(kafkaJsError('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed'))).toBe(false);
    expect(isRetriable(new StreamError('RECO_ERR_TOPIC_SETUP', 'ensureTopics failed', { cause: protocolError(40 /* INVALID_CONFIG */) }))).toBe(false);
    expect(isRetriable(new StreamError('RECO_ERR_TOPIC_SETUP', 'ensureTopics failed', { cause: protocolError(41 /* NOT_CONTROLLER */) }))).toBe(true);
    expect(isRetriable(new StreamError('RECO_ERR_TOPIC_SETUP', 'ensureTopics failed', { cause: new Error('something') }))).toBe(true);
    // This package's own "not retriable" stands whatever it wraps.
    expect(isRetriable(new StreamError('RECO_ERR_KAFKA_CONFIG', 'bad brokers', { cause: refused() }))).toBe(false);
    expect(isRetriable(kafkaJsError('KafkaJSNonRetriableError', 'Consumer groupId must be a non-empty string.'))).toBe(false);
  });

  it('several brokers failing at once is retriable only if every failure is', () => {
    expect(isRetriable(kafkaJsError('KafkaJSAggregateError', 'fetch failed', [refused(), protocolError(6)]))).toBe(true);
    expect(isRetriable(kafkaJsError('KafkaJSAggregateError', 'fetch failed', [refused(), new TypeError('bug')]))).toBe(false);
  });
});
