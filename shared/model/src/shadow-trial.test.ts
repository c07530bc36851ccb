import { describe, expect, it } from 'vitest';
import { MISS_RANK } from './evaluation/protocol.js';
import { ShadowTrial } from './shadow-trial.js';

describe('ShadowTrial', () => {
  it('waits for its clicks, then accepts a candidate that ranks them at least as well as live', () => {
    const trial = new ShadowTrial(3);
    trial.record(4, 0);
    trial.record(MISS_RANK, 2);
    expect(trial.ready).toBe(false);
    trial.record(0, 0);
    expect(trial.ready).toBe(true);
    const verdict = trial.verdict();
    expect(verdict).toMatchObject({ accept: true, clicks: 3, candidateHr10: 1, liveHr10: 2 / 3 });
    expect(verdict.candidateNdcg10).toBeGreaterThan(verdict.liveNdcg10);
  });

  it('refuses a candidate with fewer hits, or the same hits placed lower', () => {
    const fewer = new ShadowTrial(2);
    fewer.record(0, 0);
    fewer.record(3, 40);
    expect(fewer.verdict().accept).toBe(false);
    const lower = new ShadowTrial(2);
    lower.record(0, 5);
    lower.record(1, 1);
    expect(lower.verdict()).toMatchObject({ accept: false, candidateHr10: 1, liveHr10: 1 });
  });

  it('accepts a candidate that ties live on every click (the initial parameters, say)', () => {
    const tie = new ShadowTrial(2);
    tie.record(7, 7);
    tie.record(MISS_RANK, MISS_RANK);
    expect(tie.verdict().accept).toBe(true);
  });

  it('refuses a lead within the noise at confidence 1, which confidence 0 lets through', () => {
    const record = (trial: ShadowTrial): ShadowTrial => {
      // One click better, one worse by nearly as much: ahead on average, by far less than a standard error.
      trial.record(3, 0);
      trial.record(0, 2);
      trial.record(MISS_RANK, MISS_RANK);
      return trial;
    };
    expect(record(new ShadowTrial(3, 1)).verdict().accept).toBe(false);
    expect(record(new ShadowTrial(3, 0)).verdict().accept).toBe(true);
  });

  it('needs a positive whole number of clicks', () => {
    expect(() => new ShadowTrial(0)).toThrow(/positive whole number/);
    expect(() => new ShadowTrial(2.5)).toThrow(/positive whole number/);
    expect(() => new ShadowTrial(2, -1)).toThrow(/confidence/);
  });
});
