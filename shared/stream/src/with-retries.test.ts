import { describe, expect, it } from 'vitest';
import { StreamError } from './errors.js';
import { kafkaJsError, protocolError } from './testing/kafkajs-errors.js';
import { START_UP_BACKOFF, backoffDelay, errorSummary, withRetries } from './with-retries.js';

describe('withRetries', () => {
  it('retries retriable failures and gives up on the others at once', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number): Promise<void> => void slept.push(ms);
    let calls = 0;
    const value = await withRetries(
      'flaky',
      async () => {
        if (++calls < 3) throw new StreamError('RECO_ERR_TOPIC_SETUP', 'not yet');
        return 'done';
      },
      { sleep },
    );
    expect([value, calls, slept.length]).toEqual(['done', 3, 2]);
    calls = 0;
    await expect(
      withRetries(
        'broken',
        async () => {
          calls++;
          throw new StreamError('RECO_ERR_KAFKA_CONFIG', 'bad config');
        },
        { sleep },
      ),
    ).rejects.toThrow('bad config');
    expect(calls).toBe(1);
  });

  it('retries what KafkaJS throws while a broker restarts (wrapped connection errors, not leader), up to its attempts', async () => {
    const refused = kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' });
    const failures: Error[] = [kafkaJsError('KafkaJSNumberOfRetriesExceeded', refused, { retryCount: 8, retryTime: 5000 }), protocolError(6 /* NOT_LEADER_FOR_PARTITION */)];
    let calls = 0;
    const sleep = async (): Promise<void> => undefined;
    expect(await withRetries('start-up read', async () => {
      const failure = failures[calls++];
      if (failure) throw failure;
      return calls;
    }, { sleep })).toBe(3);
    calls = 0;
    await expect(withRetries('never', async () => {
      calls++;
      throw refused;
    }, { sleep, attempts: 4 })).rejects.toBe(refused);
    expect(calls).toBe(4);
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay, never passes the cap, and spreads by at most 20%', () => {
    const backoff = { initialMs: 100, maxMs: 1000 };
    const middle = (): number => 0.5;
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, backoff, middle))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(1, backoff, () => 0)).toBe(80);
    expect(backoffDelay(60, backoff, () => 0.999999)).toBeLessThanOrEqual(1200);
    for (let attempt = 1; attempt < 100; attempt++) expect(backoffDelay(attempt, START_UP_BACKOFF)).toBeLessThanOrEqual(START_UP_BACKOFF.maxMs * 1.2);
  });
});

describe('errorSummary', () => {
  it('names the causes KafkaJS nests, where the broker that refused is', () => {
    const refused = kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:1');
    const crash = kafkaJsError('KafkaJSNonRetriableError', refused, { cause: refused });
    expect(errorSummary(crash)).toBe('KafkaJSNonRetriableError: Connection error: connect ECONNREFUSED 127.0.0.1:1 <- KafkaJSConnectionError: Connection error: connect ECONNREFUSED 127.0.0.1:1');
  });
});
