import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SmallFixture, smallWorldFixture } from './testing/small-world-fixture.js';

let fixture: SmallFixture;

beforeAll(async () => {
  fixture = await smallWorldFixture({ fresh: true });
}, 180_000);

afterAll(() => fixture.checkpoint.backbone.dispose());

describe('pretraining on the small synthetic world', () => {
  it('beats popularity by at least 2x on held-out last items before the drift (full ranking, seen excluded)', () => {
    const result = fixture.pretrain;
    expect(result).toBeDefined();
    if (result === undefined) return;
    const popularity = result.baselines.find((b) => b.name === 'popularity');
    expect(popularity).toBeDefined();
    if (popularity === undefined) return;
    expect(result.test.label).toBe('full ranking over the catalogue, seen items excluded');
    expect(result.test.full.protocol).toBe('full');
    expect(result.test.sampled.protocol).toBe('sampled-100');
    expect(result.test.full.count).toBe(result.validationUsers);
    expect(result.test.full.hr10).toBeGreaterThanOrEqual(2 * popularity.test.full.hr10);
    // The sampled protocol is easier; it must still rank the backbone above popularity.
    expect(result.test.sampled.hr10).toBeGreaterThan(result.test.full.hr10);
    expect(result.test.sampled.hr10).toBeGreaterThan(popularity.test.sampled.hr10);
    expect(result.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    console.info(`pretrain small world (full ranking): HR@10 ${result.test.full.hr10.toFixed(3)} vs popularity ${popularity.test.full.hr10.toFixed(3)}; sampled-100: ${result.test.sampled.hr10.toFixed(3)} vs ${popularity.test.sampled.hr10.toFixed(3)} in ${result.trainSeconds.toFixed(1)} s`);
  });

  it('keeps the best validation epoch, not the last', () => {
    const result = fixture.pretrain;
    if (result === undefined) throw new Error('fixture did not pretrain');
    const best = Math.max(...result.epochs.map((e) => e.validation.full.hr10));
    expect(result.validation.full.hr10).toBeCloseTo(best, 10);
    expect(result.epochs.find((e) => e.epoch === result.bestEpoch)?.validation.full.hr10).toBeCloseTo(best, 10);
  });
});
