import { RANKING_CUTOFF, hitAtK, ndcgAtK } from './ranking-metrics.js';

/**
 * A candidate's trial on live traffic before it is published: the clicks that arrive after the
 * candidate was cut are ranked by the live snapshot (what users get) and by the candidate, and
 * neither has trained on them. The verdict compares the two on exactly those clicks.
 *
 * Why not the rolling holdout alone: on MovieLens the holdout (every 20th click of the last few
 * thousand) is drawn from the same users and sessions the candidate has just trained on, and a
 * candidate that beat the live snapshot there still ranked the next clicks worse
 * (docs/online-ablation.md). The next clicks are the only sample of what serving will face.
 */
export interface ShadowVerdict {
  accept: boolean;
  clicks: number;
  candidateHr10: number;
  candidateNdcg10: number;
  liveHr10: number;
  liveNdcg10: number;
}

export class ShadowTrial {
  private candidateHits = 0;
  private liveHits = 0;
  private candidateNdcg = 0;
  private liveNdcg = 0;
  private count = 0;
  /** Sum and sum of squares of the per-click NDCG@10 differences (candidate - live). */
  private diffSum = 0;
  private diffSquares = 0;

  /**
   * `clicks`: how many fresh clicks the verdict waits for. `confidence`: how many standard errors
   * of the paired NDCG@10 difference the candidate must be ahead by (0 = at least as good).
   */
  constructor(
    readonly clicks: number,
    readonly confidence = 1,
  ) {
    if (!Number.isInteger(clicks) || clicks < 1) throw new RangeError(`a shadow trial needs a positive whole number of clicks, got ${clicks}`);
    if (!(confidence >= 0) || !Number.isFinite(confidence)) throw new RangeError(`a shadow trial's confidence must be a finite number >= 0, got ${confidence}`);
  }

  /** One click's 0-based rank under the live snapshot and under the candidate. */
  record(liveRank: number, candidateRank: number): void {
    this.count++;
    this.liveHits += hitAtK(liveRank, RANKING_CUTOFF);
    this.candidateHits += hitAtK(candidateRank, RANKING_CUTOFF);
    const live = ndcgAtK(liveRank, RANKING_CUTOFF);
    const candidate = ndcgAtK(candidateRank, RANKING_CUTOFF);
    this.liveNdcg += live;
    this.candidateNdcg += candidate;
    this.diffSum += candidate - live;
    this.diffSquares += (candidate - live) ** 2;
  }

  get recorded(): number {
    return this.count;
  }

  get ready(): boolean {
    return this.count >= this.clicks;
  }

  /**
   * Accepted when the candidate ranked the trial's clicks better than live by `confidence`
   * standard errors of the paired NDCG@10 difference (NDCG also counts where in the top 10 a hit
   * lands), and with at least as many hits; a candidate that ranks every click exactly as live
   * does changes nothing and passes. Never a tolerance below live: refusing a candidate that is
   * only as good by chance costs nothing (training goes on and the next one is tried), while
   * accepting "within noise" lets a chain of slightly worse candidates walk the live model down,
   * which is what happened on MovieLens with margins of noise (docs/online-ablation.md).
   */
  verdict(): ShadowVerdict {
    const n = Math.max(this.count, 1);
    const mean = this.diffSum / n;
    const variance = n > 1 ? Math.max(0, (this.diffSquares - n * mean * mean) / (n - 1)) : 0;
    const unchanged = this.diffSquares === 0;
    const ahead = mean >= this.confidence * Math.sqrt(variance / n);
    return {
      accept: (unchanged || ahead) && this.candidateHits >= this.liveHits,
      clicks: this.count,
      candidateHr10: this.candidateHits / n,
      candidateNdcg10: this.candidateNdcg / n,
      liveHr10: this.liveHits / n,
      liveNdcg10: this.liveNdcg / n,
    };
  }
}
