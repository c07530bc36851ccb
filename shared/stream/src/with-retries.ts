import { isRetriable } from './errors.js';
import type { Logger } from './logger.js';

export interface Backoff {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** No delay grows past this: a broker that comes back is noticed within this long. */
  readonly maxMs: number;
}

/**
 * Start-up work: about 18 s of retries in all (250 ms doubling, capped at 5 s, 8 attempts), long
 * enough for a coordinator that is still loading or a leader that is still being elected, short
 * enough that a cluster that is really gone fails the start with the cause in the log.
 */
export const START_UP_BACKOFF: Backoff = Object.freeze({ initialMs: 250, maxMs: 5000 });

/**
 * The delay before retry number `attempt` (1 for the first retry): doubling from `initialMs`,
 * capped at `maxMs`, then spread by +-20% so that replicas which lost the same broker at the same
 * moment do not all come back at the same instant.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const capped = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  return Math.round(capped * (0.8 + 0.4 * random()));
}

export interface RetryOptions {
  /** Tries in all, the first included (default 8). */
  attempts?: number;
  /** Default START_UP_BACKOFF. */
  backoff?: Backoff;
  logger?: Logger;
  /** For tests: how to wait (default a timer). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Retries work that failed for a transient reason, with capped exponential backoff; anything not
 * retriable fails at once. `isRetriable` (errors.ts) is the only judge, so "not leader",
 * "coordinator loading" and a refused connection during a broker restart are retried everywhere
 * alike: ensuring topics, reading the latest snapshots, connecting producers and admins.
 */
export async function withRetries<T>(what: string, work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  const backoff = options.backoff ?? START_UP_BACKOFF;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error)) throw error;
      const delayMs = backoffDelay(attempt, backoff);
      options.logger?.warn({ err: errorSummary(error), attempt, attempts, delayMs }, `${what} failed; retrying`);
      await sleep(delayMs);
    }
  }
}

/**
 * Name and message of an error and its causes, for log lines: KafkaJS's interesting part (which
 * broker refused, which protocol error) is usually two causes deep.
 */
export function errorSummary(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e !== 'object') {
      // Something thrown that is not an Error (a string, a number): its JSON is its text.
      parts.push(JSON.stringify(e) ?? typeof e);
      break;
    }
    const { name, message } = e as { name?: unknown; message?: unknown };
    const text = `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message : ''}`;
    if (!parts.includes(text)) parts.push(text);
    const next = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
    if (next === e) break;
    e = next;
  }
  return parts.join(' <- ');
}
