export * from './small-world-fixture.js';
export { rankingMismatch, type RankedItem } from './rankings.js';
