import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STREAM_ERRORS, StreamError, isRetriable } from './errors.js';

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
  });
});
