import { isRetriable } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Retries start-up work that failed for a transient reason (the stream package's `isRetriable`
 * decides: KafkaJS's own flag, connection errors, StreamError codes), with exponential backoff.
 * A freshly created topic, for instance, can briefly answer "does not host this topic-partition"
 * until its leader is known everywhere. Anything not retriable fails at once.
 */
export async function withRetries<T>(what: string, work: () => Promise<T>, options: { attempts?: number; baseDelayMs?: number; logger?: Logger } = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error)) throw error;
      const delay = (options.baseDelayMs ?? 200) * 2 ** (attempt - 1);
      options.logger?.warn({ err: error, attempt, delayMs: delay }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
