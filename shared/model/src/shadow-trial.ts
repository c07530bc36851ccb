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

  /** `clicks`: how many fresh clicks the verdict waits for. */
  constructor(readonly clicks: number) {
    if (!Number.isInteger(clicks) || clicks < 1) throw new RangeError(`a shadow trial needs a positive whole number of clicks, got ${clicks}`);
  }

  /** One click's 0-based rank under the live snapshot and under the candidate. */
  record(liveRank: number, candidateRank: number): void {
    this.count++;
    this.liveHits += hitAtK(liveRank, RANKING_CUTOFF);
    this.candidateHits += hitAtK(candidateRank, RANKING_CUTOFF);
    this.liveNdcg += ndcgAtK(liveRank, RANKING_CUTOFF);
    this.candidateNdcg += ndcgAtK(candidateRank, RANKING_CUTOFF);
  }

  get recorded(): number {
    return this.count;
  }

  get ready(): boolean {
    return this.count >= this.clicks;
  }

  /**
   * Accepted when the candidate ranked the trial's clicks at least as well as live, by NDCG@10
   * (which also counts where in the top 10 a hit lands) and by HR@10. No tolerance: a candidate
   * that is only as good by chance costs nothing to refuse (training goes on and the next one is
   * tried), while a tolerance lets a chain of slightly worse candidates walk the live model down.
   */
  verdict(): ShadowVerdict {
    const n = Math.max(this.count, 1);
    return {
      accept: this.candidateNdcg >= this.liveNdcg && this.candidateHits >= this.liveHits,
      clicks: this.count,
      candidateHr10: this.candidateHits / n,
      candidateNdcg10: this.candidateNdcg / n,
      liveHr10: this.liveHits / n,
      liveNdcg10: this.liveNdcg / n,
    };
  }
}
