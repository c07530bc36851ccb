import { describe, expect, it } from 'vitest';
import { StreamError } from './errors.js';
import { withRetries } from './with-retries.js';

describe('withRetries', () => {
  it('retries retriable failures and gives up on the others at once', async () => {
    let calls = 0;
    const value = await withRetries(
      'flaky',
      async () => {
        if (++calls < 3) throw new StreamError('RECO_ERR_TOPIC_SETUP', 'not yet');
        return 'done';
      },
      { baseDelayMs: 1 },
    );
    expect([value, calls]).toEqual(['done', 3]);
    calls = 0;
    await expect(
      withRetries(
        'broken',
        async () => {
          calls++;
          throw new StreamError('RECO_ERR_KAFKA_CONFIG', 'bad config');
        },
        { baseDelayMs: 1 },
      ),
    ).rejects.toThrow('bad config');
    expect(calls).toBe(1);
  });
});
