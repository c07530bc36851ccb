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
}

export interface GateInput {
  candidate: { holdoutLoss: number | null; tensors: Iterable<{ name: string; values: Float32Array }> };
  /** The live snapshot's loss on the same holdout; null when nothing is live yet. */
  live: { holdoutLoss: number } | null;
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
}

export type GateRejection = 'non-finite-weights' | 'non-finite-loss' | 'loss-regressed';

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

function checkConfig(config: GateConfig): void {
  if (!(config.maxLossIncrease >= 0) || !Number.isFinite(config.maxLossIncrease)) {
    throw new RangeError(`maxLossIncrease must be a finite number >= 0, got ${config.maxLossIncrease}`);
  }
  const relative = config.maxRelativeLossIncrease;
  if (relative !== undefined && (!(relative >= 0) || !Number.isFinite(relative))) {
    throw new RangeError(`maxRelativeLossIncrease must be a finite number >= 0, got ${relative}`);
  }
}

/** Enough digits to tell two close losses apart in a log line. */
function fmt(x: number): string {
  return Number(x.toPrecision(6)).toString();
}
