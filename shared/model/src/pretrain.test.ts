import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SmallFixture, smallWorldFixture } from './testing/small-world-fixture.js';

let fixture: SmallFixture;

beforeAll(async () => {
  fixture = await smallWorldFixture({ fresh: true });
}, 180_000);

afterAll(() => fixture.checkpoint.backbone.dispose());

describe('pretraining on the small synthetic world', () => {
  it('beats popularity by at least 2x on held-out last items before the drift (full ranking)', () => {
    const result = fixture.pretrain;
    expect(result).toBeDefined();
    if (result === undefined) return;
    expect(result.validation.full.protocol).toBe('full');
    expect(result.validation.sampled.protocol).toBe('sampled-100');
    expect(result.validation.full.count).toBe(result.validationUsers);
    expect(result.validation.full.hr10).toBeGreaterThanOrEqual(2 * result.popularity.full.hr10);
    // The sampled protocol is easier; it must still rank the backbone above popularity.
    expect(result.validation.sampled.hr10).toBeGreaterThan(result.validation.full.hr10);
    expect(result.validation.sampled.hr10).toBeGreaterThan(result.popularity.sampled.hr10);
    expect(result.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    console.info(`pretrain small world (full ranking): HR@10 ${result.validation.full.hr10.toFixed(3)} vs popularity ${result.popularity.full.hr10.toFixed(3)}; sampled-100: ${result.validation.sampled.hr10.toFixed(3)} vs ${result.popularity.sampled.hr10.toFixed(3)} in ${result.trainSeconds.toFixed(1)} s`);
  });
});
