import { type Baseline, PopularityTieBreak } from './baseline.js';
import { PairCounts } from './pair-counts.js';

/** First-order Markov chain: the items most often clicked right after the user's last one. */
export class MarkovBaseline implements Baseline {
  readonly name = 'markov';
  readonly description = 'first-order Markov chain: transition counts from the last item, popularity breaks ties';
  private readonly transitions = new PairCounts();
  private readonly popularity = new PopularityTieBreak();

  score(history: readonly number[], out: Float32Array): void {
    this.popularity.fill(out, 1);
    const last = history[history.length - 1];
    if (last === undefined) return;
    this.transitions.forEachOf(last, (next, count) => {
      if (next < out.length) out[next] = (out[next] as number) + count;
    });
  }

  learn(history: readonly number[], target: number): void {
    const last = history[history.length - 1];
    if (last !== undefined) this.transitions.add(last, target);
    this.popularity.add(target);
  }
}
