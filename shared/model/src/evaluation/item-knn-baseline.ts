import { CoVisits, type CoVisitOptions } from '../co-visits.js';
import { type Baseline, PopularityTieBreak } from './baseline.js';

export type ItemKnnOptions = CoVisitOptions;

/**
 * Item-based kNN over co-occurrence (see CoVisits for the similarity and the window), with
 * popularity breaking the ties it leaves. Textbook: every pair is kept (no `maxPairs` decay).
 */
export class ItemKnnBaseline implements Baseline {
  readonly name = 'item-knn';
  private readonly coVisits: CoVisits;
  private readonly popularity = new PopularityTieBreak();

  constructor(options: ItemKnnOptions = {}) {
    this.coVisits = new CoVisits({ maxPairs: Number.POSITIVE_INFINITY, ...options });
  }

  get description(): string {
    return `item-kNN: cosine co-occurrence within ${this.coVisits.window} events, summed over the last ${this.coVisits.recent} items, popularity breaks ties`;
  }

  /** How many recent items vote; only scoring reads it, so it can be tuned without refitting. */
  get recentItems(): number {
    return this.coVisits.recent;
  }

  set recentItems(n: number) {
    this.coVisits.recent = n;
  }

  score(history: readonly number[], out: Float32Array): void {
    // Below 1e-3 so popularity only orders what the similarities leave tied.
    this.popularity.fill(out, 1e-3);
    this.coVisits.addScores(history, out);
  }

  learn(history: readonly number[], target: number): void {
    this.coVisits.learn(history, target);
    this.popularity.add(target);
  }
}
