import { type Baseline, PopularityTieBreak } from './baseline.js';

/** Most-clicked items first: what serving answers a user it knows nothing about. */
export class PopularityBaseline implements Baseline {
  readonly name = 'popularity';
  readonly description = 'items ranked by their click count so far';
  private readonly counts = new PopularityTieBreak();

  score(_history: readonly number[], out: Float32Array): void {
    this.counts.fill(out, 1);
  }

  learn(_history: readonly number[], target: number): void {
    this.counts.add(target);
  }
}
