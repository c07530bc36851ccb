import { describe, expect, it } from 'vitest';
import { publishDecision, type PublishPolicy } from './publish-policy.js';

const policy: PublishPolicy = { intervalMs: 10_000, maxSteps: 50 };
const at = (nowMs: number, stepsSincePublish: number, lastPublishMs = 0) => ({ nowMs, lastPublishMs, stepsSincePublish });

describe('publishDecision', () => {
  it('never publishes without new steps, however long it has been', () => {
    expect(publishDecision(at(1_000_000, 0), policy)).toEqual({ publish: false, reason: 'no-new-steps' });
  });

  it('publishes on the interval once it has elapsed', () => {
    expect(publishDecision(at(9_999, 3), policy)).toEqual({ publish: false, reason: 'not-due' });
    expect(publishDecision(at(10_000, 3), policy)).toEqual({ publish: true, reason: 'interval' });
    expect(publishDecision(at(25_000, 1, 15_000), policy)).toEqual({ publish: true, reason: 'interval' });
  });

  it('publishes on the step count before the interval is up', () => {
    expect(publishDecision(at(100, 49), policy)).toEqual({ publish: false, reason: 'not-due' });
    expect(publishDecision(at(100, 50), policy)).toEqual({ publish: true, reason: 'steps' });
    expect(publishDecision(at(100, 80), policy)).toEqual({ publish: true, reason: 'steps' });
  });

  it('names the step trigger when both are due', () => {
    expect(publishDecision(at(60_000, 50), policy)).toEqual({ publish: true, reason: 'steps' });
  });

  it('holds the interval trigger back until minSteps have accumulated', () => {
    const p = { ...policy, minSteps: 5 };
    expect(publishDecision(at(60_000, 4), p)).toEqual({ publish: false, reason: 'not-due' });
    expect(publishDecision(at(60_000, 5), p)).toEqual({ publish: true, reason: 'interval' });
  });

  it('waits when the clock runs backwards', () => {
    expect(publishDecision(at(5_000, 10, 20_000), policy)).toEqual({ publish: false, reason: 'not-due' });
  });

  it('rejects impossible policies', () => {
    expect(() => publishDecision(at(0, 1), { intervalMs: 0, maxSteps: 5 })).toThrow(RangeError);
    expect(() => publishDecision(at(0, 1), { intervalMs: 10, maxSteps: 0 })).toThrow(RangeError);
    expect(() => publishDecision(at(0, 1), { intervalMs: 10, maxSteps: 5, minSteps: 6 })).toThrow(RangeError);
    expect(() => publishDecision(at(0, 1), { intervalMs: NaN, maxSteps: 5 })).toThrow(RangeError);
  });
});
