import { RANKING_CUTOFF, hitAtK, ndcgAtK } from './ranking-metrics.js';

/**
 * The last check before an adaptation snapshot is published. A snapshot that fails here never
 * reaches Kafka, so serving keeps the live one; the decision's figures travel with an accepted
 * snapshot so anyone can see later what it was accepted against.
 */

export interface GateConfig {
  /** Absolute increase of holdout loss over the live snapshot's that is still accepted, e.g. 0.05. */
  maxLossIncrease: number;
  /**
   * Optional relative cap, as a fraction of the live loss (0.02 = 2 %). When both are set the
   * stricter one applies: each is a maximum the candidate must respect.
   */
  maxRelativeLossIncrease?: number;
  /**
   * Largest drop of holdout HR@10 or NDCG@10 (full ranking, the evaluation protocol) below the
   * live snapshot's that is still accepted, e.g. 0.01. The loss is a sampled softmax, which can
   * fall while the full ranking users get worsens (docs/online-ablation.md: 100 negatives
   * lowered ladder to 0.78x frozen). Unset: not checked.
   */
  maxRankingDrop?: number;
}

/** HR@10 and NDCG@10 on the rolling holdout, full ranking under the evaluation protocol. */
export interface HoldoutRanking {
  hr10: number;
  ndcg10: number;
}

/**
 * Standard errors of the paired per-example differences (candidate - live) on the holdout. A
 * few hundred holdout clicks make HR@10 move by a few hundredths between two equally good
 * models (one click of 256 is 0.004), so a drop is only held against a candidate when it
 * exceeds both the configured margin and twice this noise: otherwise the gate refuses healthy
 * candidates by chance and the published model falls behind.
 */
export interface RankingNoise {
  hr10: number;
  ndcg10: number;
}

export interface GateInput {
  candidate: { holdoutLoss: number | null; holdoutRanking?: HoldoutRanking; tensors: Iterable<{ name: string; values: Float32Array }> };
  /** The live snapshot's loss (and ranking) on the same holdout; null when nothing is live yet. */
  live: { holdoutLoss: number; holdoutRanking?: HoldoutRanking } | null;
  rankingNoise?: RankingNoise;
}

export interface GateFigures {
  /** Null when the rolling holdout was still empty. */
  candidateLoss: number | null;
  /** Null when nothing is live or the live loss is not a finite number to compare against. */
  liveLoss: number | null;
  /** Allowed increase over the live loss that applied; null when there was no comparison. */
  margin: number | null;
  /** candidateLoss - liveLoss; null when there was no comparison. */
  lossIncrease: number | null;
  tensorsChecked: number;
  valuesChecked: number;
  /** Holdout ranking figures of candidate and live, when both were measured. */
  candidateHr10?: number;
  candidateNdcg10?: number;
  liveHr10?: number;
  liveNdcg10?: number;
}

export type GateRejection = 'non-finite-weights' | 'non-finite-loss' | 'loss-regressed' | 'ranking-regressed' | 'shadow-regressed';

export type GateDecision =
  | { accept: true; figures: GateFigures }
  | { accept: false; reason: string; code: GateRejection; figures: GateFigures };

/**
 * Accepts a candidate whose weights are all finite, whose holdout loss is finite, and whose
 * loss exceeds the live snapshot's by at most the margin. Without a (finitely scored) live
 * snapshot there is nothing to regress against, so only the finiteness checks apply.
 */
export function validateCandidate(input: GateInput, config: GateConfig): GateDecision {
  checkConfig(config);
  const candidateLoss = input.candidate.holdoutLoss;
  const liveRaw = input.live?.holdoutLoss;
  const liveLoss = liveRaw !== undefined && Number.isFinite(liveRaw) ? liveRaw : null;
  const figures: GateFigures = { candidateLoss, liveLoss, margin: null, lossIncrease: null, tensorsChecked: 0, valuesChecked: 0 };
  const candidateRanking = input.candidate.holdoutRanking;
  const liveRanking = input.live?.holdoutRanking;
  if (candidateRanking !== undefined && liveRanking !== undefined) {
    figures.candidateHr10 = candidateRanking.hr10;
    figures.candidateNdcg10 = candidateRanking.ndcg10;
    figures.liveHr10 = liveRanking.hr10;
    figures.liveNdcg10 = liveRanking.ndcg10;
  }

  for (const tensor of input.candidate.tensors) {
    const values = tensor.values;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] ?? 0;
      if (!Number.isFinite(v)) {
        figures.valuesChecked += i + 1;
        return {
          accept: false,
          code: 'non-finite-weights',
          reason: `tensor "${tensor.name}" holds ${String(v)} at flat index ${i} (of ${values.length} values)`,
          figures,
        };
      }
    }
    figures.tensorsChecked++;
    figures.valuesChecked += values.length;
  }

  // No holdout examples yet (the first publish after a start): only the weights can be judged.
  if (candidateLoss === null) return { accept: true, figures };
  if (!Number.isFinite(candidateLoss)) {
    return { accept: false, code: 'non-finite-loss', reason: `candidate holdout loss is ${String(candidateLoss)}`, figures };
  }
  if (liveLoss === null) return { accept: true, figures };

  const relative = config.maxRelativeLossIncrease;
  const margin = relative === undefined ? config.maxLossIncrease : Math.min(config.maxLossIncrease, relative * Math.abs(liveLoss));
  figures.margin = margin;
  figures.lossIncrease = candidateLoss - liveLoss;
  const drop = config.maxRankingDrop;
  if (drop !== undefined && candidateRanking !== undefined && liveRanking !== undefined) {
    const allowed = (k: 'hr10' | 'ndcg10'): number => Math.max(drop, 2 * (input.rankingNoise?.[k] ?? 0));
    const worse = (['hr10', 'ndcg10'] as const).find((k) => candidateRanking[k] < liveRanking[k] - allowed(k));
    if (worse !== undefined) {
      const name = worse === 'hr10' ? 'HR@10' : 'NDCG@10';
      return {
        accept: false,
        code: 'ranking-regressed',
        reason: `candidate holdout ${name} ${fmt(candidateRanking[worse])} is below live ${fmt(liveRanking[worse])} by more than the margin ${fmt(allowed(worse))}`,
        figures,
      };
    }
  }
  if (candidateLoss > liveLoss + margin) {
    return {
      accept: false,
      code: 'loss-regressed',
      reason:
        `candidate holdout loss ${fmt(candidateLoss)} exceeds live ${fmt(liveLoss)} by ${fmt(candidateLoss - liveLoss)}, ` +
        `more than the margin ${fmt(margin)}`,
      figures,
    };
  }
  return { accept: true, figures };
}

/** RankingNoise of two rankings of the same clicks, given each click's 0-based rank. */
export function pairedRankingNoise(candidate: readonly number[], live: readonly number[]): RankingNoise {
  const se = (metric: (rank: number) => number): number => {
    const n = candidate.length;
    if (n < 2) return 0;
    const diffs = candidate.map((rank, i) => metric(rank) - metric(live[i] as number));
    const mean = diffs.reduce((x, y) => x + y, 0) / n;
    const variance = diffs.reduce((x, d) => x + (d - mean) ** 2, 0) / (n - 1);
    return Math.sqrt(variance / n);
  };
  return { hr10: se((r) => hitAtK(r, RANKING_CUTOFF)), ndcg10: se((r) => ndcgAtK(r, RANKING_CUTOFF)) };
}

function checkConfig(config: GateConfig): void {
  if (!(config.maxLossIncrease >= 0) || !Number.isFinite(config.maxLossIncrease)) {
    throw new RangeError(`maxLossIncrease must be a finite number >= 0, got ${config.maxLossIncrease}`);
  }
  const relative = config.maxRelativeLossIncrease;
  if (relative !== undefined && (!(relative >= 0) || !Number.isFinite(relative))) {
    throw new RangeError(`maxRelativeLossIncrease must be a finite number >= 0, got ${relative}`);
  }
  const drop = config.maxRankingDrop;
  if (drop !== undefined && (!(drop >= 0) || !Number.isFinite(drop))) throw new RangeError(`maxRankingDrop must be a finite number >= 0, got ${drop}`);
}

/** Enough digits to tell two close losses apart in a log line. */
function fmt(x: number): string {
  return Number(x.toPrecision(6)).toString();
}
