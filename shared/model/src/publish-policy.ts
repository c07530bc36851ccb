/**
 * When the updater publishes a new adaptation snapshot: every `intervalMs` or every `maxSteps`
 * training steps, whichever comes first. The interval bounds staleness under light traffic;
 * the step cap bounds how much unpublished training a burst can pile up (and how much a crash
 * would have to redo from the last published offsets).
 */
export interface PublishPolicy {
  /** Publish once this long has passed since the last publish (given at least `minSteps`). */
  intervalMs: number;
  /** Publish as soon as this many steps have accumulated, whatever the clock says. */
  maxSteps: number;
  /**
   * Steps the interval trigger waits for (default 1). Above 1 it stops a trickle of traffic from
   * publishing, validating and swapping a near-identical snapshot on every tick.
   */
  minSteps?: number;
}

export interface PublishState {
  nowMs: number;
  /** When the last snapshot was published; before the first one, when training started. */
  lastPublishMs: number;
  /** Training steps taken since then. */
  stepsSincePublish: number;
}

export type PublishReason = 'interval' | 'steps' | 'not-due' | 'no-new-steps';

export interface PublishDecision {
  publish: boolean;
  reason: PublishReason;
}

export function publishDecision(state: PublishState, policy: PublishPolicy): PublishDecision {
  const minSteps = policy.minSteps ?? 1;
  if (!(policy.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${policy.intervalMs}`);
  if (!Number.isInteger(policy.maxSteps) || policy.maxSteps < 1) {
    throw new RangeError(`maxSteps must be a positive integer, got ${policy.maxSteps}`);
  }
  if (!Number.isInteger(minSteps) || minSteps < 1 || minSteps > policy.maxSteps) {
    throw new RangeError(`minSteps must be an integer in [1, maxSteps=${policy.maxSteps}], got ${minSteps}`);
  }

  // Nothing new means the snapshot would equal the live one: publishing would only cost a
  // validation, a Kafka message and a swap on every replica.
  if (!(state.stepsSincePublish > 0)) return { publish: false, reason: 'no-new-steps' };
  if (state.stepsSincePublish >= policy.maxSteps) return { publish: true, reason: 'steps' };
  // A clock that stepped backwards gives a negative elapsed time and simply waits.
  const elapsed = state.nowMs - state.lastPublishMs;
  if (elapsed >= policy.intervalMs && state.stepsSincePublish >= minSteps) return { publish: true, reason: 'interval' };
  return { publish: false, reason: 'not-due' };
}
