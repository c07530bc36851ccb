import { RANKING_CUTOFF, hitAtK, ndcgAtK } from './ranking-metrics.js';

export interface PrequentialOptions {
  /** Records per window, both for the rolling figure and for the window curve. */
  windowSize: number;
}

export interface PrequentialFigures {
  /** Records the figures are averaged over; 0 means no data and then both figures read 0. */
  count: number;
  hr10: number;
  ndcg10: number;
}

export interface PrequentialWindow {
  /** Records made when the window closed: the window covers events [index - windowSize, index). */
  index: number;
  /** Timestamp of the window's last record, when records carry one. */
  ts?: number;
  hr10: number;
  ndcg10: number;
}

/**
 * Test-then-train accounting: every event is ranked by the parameters as they were before
 * training on it, and its rank is recorded here. Three views answer different questions:
 * `rolling()` is "how good is the model right now" (for the live gauge), `windows()` is the
 * learning curve (where drift shows as a dip and recovery), `overall()` is the single number
 * for a benchmark table. Metrics are at the cut-off 10 (HR@10, NDCG@10), matching the names.
 */
export class PrequentialTracker {
  readonly windowSize: number;
  private readonly recentHits: Uint8Array;
  private readonly recentNdcg: Float64Array;
  private recorded = 0;
  private rollingHits = 0;
  private rollingNdcg = 0;
  private totalHits = 0;
  private totalNdcg = 0;
  private readonly closed: PrequentialWindow[] = [];

  constructor(opts: PrequentialOptions) {
    if (!Number.isInteger(opts.windowSize) || opts.windowSize < 1) {
      throw new RangeError(`windowSize must be a positive integer, got ${opts.windowSize}`);
    }
    this.windowSize = opts.windowSize;
    this.recentHits = new Uint8Array(opts.windowSize);
    this.recentNdcg = new Float64Array(opts.windowSize);
  }

  /** Records made so far. */
  get count(): number {
    return this.recorded;
  }

  /** One event's 0-based rank (see ranking-metrics), scored before training on it. */
  record(rank: number, ts?: number): void {
    const hit = hitAtK(rank, RANKING_CUTOFF);
    const ndcg = ndcgAtK(rank, RANKING_CUTOFF);
    const slot = this.recorded % this.windowSize;
    this.rollingHits += hit - (this.recentHits[slot] ?? 0);
    this.rollingNdcg += ndcg - (this.recentNdcg[slot] ?? 0);
    this.recentHits[slot] = hit;
    this.recentNdcg[slot] = ndcg;
    this.totalHits += hit;
    this.totalNdcg += ndcg;
    this.recorded++;

    if (this.recorded % this.windowSize === 0) {
      // Add-and-subtract drifts over millions of records; a window boundary is exactly the
      // moment the ring holds one whole window, so re-summing it there resets the error for free
      // and makes the closed window's figure exact.
      this.rollingNdcg = this.recentNdcg.reduce((sum, v) => sum + v, 0);
      const window: PrequentialWindow = {
        index: this.recorded,
        hr10: this.rollingHits / this.windowSize,
        ndcg10: this.rollingNdcg / this.windowSize,
      };
      if (ts !== undefined) window.ts = ts;
      this.closed.push(window);
    }
  }

  /** Over the last `windowSize` records (fewer before that many exist). */
  rolling(): PrequentialFigures {
    const n = Math.min(this.recorded, this.windowSize);
    return figures(n, this.rollingHits, this.rollingNdcg);
  }

  /** Over every record so far. */
  overall(): PrequentialFigures {
    return figures(this.recorded, this.totalHits, this.totalNdcg);
  }

  /** The whole history in consecutive, complete windows, oldest first, for curves. */
  windows(): PrequentialWindow[] {
    return this.closed.map((w) => ({ ...w }));
  }

  /** The first complete window, or null before one exists. */
  first(): PrequentialWindow | null {
    const w = this.closed[0];
    return w === undefined ? null : { ...w };
  }

  /** The last complete window, or null before one exists. */
  last(): PrequentialWindow | null {
    const w = this.closed[this.closed.length - 1];
    return w === undefined ? null : { ...w };
  }
}

function figures(count: number, hits: number, ndcg: number): PrequentialFigures {
  return count === 0 ? { count: 0, hr10: 0, ndcg10: 0 } : { count, hr10: hits / count, ndcg10: ndcg / count };
}
