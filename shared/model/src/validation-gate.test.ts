import { describe, expect, it } from 'vitest';
import { pairedRankingNoise, validateCandidate, type GateInput } from './validation-gate.js';

const tensors = (...specs: [string, number[]][]) => specs.map(([name, values]) => ({ name, values: Float32Array.from(values) }));
const healthy = tensors(['ladder/down_0', [0.1, -0.2, 0.3]], ['ladder/up', [0, 0]]);
const input = (candidateLoss: number, liveLoss: number | null, t = healthy): GateInput => ({
  candidate: { holdoutLoss: candidateLoss, tensors: t },
  live: liveLoss === null ? null : { holdoutLoss: liveLoss },
});

describe('validateCandidate', () => {
  it('rejects a NaN weight, naming the tensor and the index', () => {
    const d = validateCandidate(input(0.5, 0.5, tensors(['ladder/down_0', [1, 2]], ['ladder/gate_1', [0, 0, NaN, NaN]])), {
      maxLossIncrease: 0.05,
    });
    expect(d.accept).toBe(false);
    if (d.accept) return;
    expect(d.code).toBe('non-finite-weights');
    expect(d.reason).toContain('"ladder/gate_1"');
    expect(d.reason).toContain('NaN at flat index 2');
    expect(d.figures.tensorsChecked).toBe(1);
    expect(d.figures.valuesChecked).toBe(5);
  });

  it('rejects an infinite weight', () => {
    const d = validateCandidate(input(0.5, null, tensors(['side/bias', [-Infinity]])), { maxLossIncrease: 0.05 });
    expect(d).toMatchObject({ accept: false, code: 'non-finite-weights' });
    if (!d.accept) expect(d.reason).toContain('-Infinity at flat index 0');
  });

  it('rejects a non-finite holdout loss even with nothing live', () => {
    expect(validateCandidate(input(NaN, null), { maxLossIncrease: 0.05 })).toMatchObject({ accept: false, code: 'non-finite-loss' });
    expect(validateCandidate(input(Infinity, 0.4), { maxLossIncrease: 0.05 })).toMatchObject({
      accept: false,
      code: 'non-finite-loss',
    });
  });

  it('rejects a loss that regressed beyond the margin, quoting both losses and the margin', () => {
    const d = validateCandidate(input(0.76, 0.7), { maxLossIncrease: 0.05 });
    expect(d.accept).toBe(false);
    if (d.accept) return;
    expect(d.code).toBe('loss-regressed');
    expect(d.reason).toBe('candidate holdout loss 0.76 exceeds live 0.7 by 0.06, more than the margin 0.05');
    expect(d.figures).toMatchObject({ candidateLoss: 0.76, liveLoss: 0.7, margin: 0.05 });
    expect(d.figures.lossIncrease).toBeCloseTo(0.06, 12);
  });

  it('accepts a loss that got worse within the margin, or better', () => {
    const within = validateCandidate(input(0.74, 0.7), { maxLossIncrease: 0.05 });
    expect(within.accept).toBe(true);
    expect(within.figures).toMatchObject({ candidateLoss: 0.74, liveLoss: 0.7, margin: 0.05, tensorsChecked: 2, valuesChecked: 5 });
    expect(validateCandidate(input(0.6, 0.7), { maxLossIncrease: 0 }).accept).toBe(true);
    expect(validateCandidate(input(0.7, 0.7), { maxLossIncrease: 0 }).accept).toBe(true);
  });

  it('applies the stricter of the absolute and relative margins', () => {
    // Live 2.0: relative 1 % allows 0.02, absolute allows 0.05; 0.03 worse is one too many.
    const strictRelative = validateCandidate(input(2.03, 2.0), { maxLossIncrease: 0.05, maxRelativeLossIncrease: 0.01 });
    expect(strictRelative).toMatchObject({ accept: false, code: 'loss-regressed', figures: { margin: 0.02 } });
    // Live 10: relative 1 % allows 0.1, absolute 0.05 wins.
    const strictAbsolute = validateCandidate(input(10.06, 10), { maxLossIncrease: 0.05, maxRelativeLossIncrease: 0.01 });
    expect(strictAbsolute).toMatchObject({ accept: false, figures: { margin: 0.05 } });
    expect(validateCandidate(input(10.04, 10), { maxLossIncrease: 0.05, maxRelativeLossIncrease: 0.01 }).accept).toBe(true);
  });

  it('accepts on finiteness alone when nothing is live, or the live loss is not a number', () => {
    const none = validateCandidate(input(3.5, null), { maxLossIncrease: 0.05 });
    expect(none).toEqual({
      accept: true,
      figures: { candidateLoss: 3.5, liveLoss: null, margin: null, lossIncrease: null, tensorsChecked: 2, valuesChecked: 5 },
    });
    expect(validateCandidate(input(3.5, NaN), { maxLossIncrease: 0.05 })).toMatchObject({ accept: true, figures: { liveLoss: null } });
  });

  it('checks weights from any iterable, once', () => {
    function* lazy() {
      yield { name: 'a', values: Float32Array.from([1]) };
      yield { name: 'b', values: Float32Array.from([2, 3]) };
    }
    const d = validateCandidate({ candidate: { holdoutLoss: 1, tensors: lazy() }, live: null }, { maxLossIncrease: 0.1 });
    expect(d.figures).toMatchObject({ tensorsChecked: 2, valuesChecked: 3 });
  });

  it('rejects an impossible configuration', () => {
    expect(() => validateCandidate(input(1, 1), { maxLossIncrease: -0.1 })).toThrow(RangeError);
    expect(() => validateCandidate(input(1, 1), { maxLossIncrease: NaN })).toThrow(RangeError);
    expect(() => validateCandidate(input(1, 1), { maxLossIncrease: 0.1, maxRelativeLossIncrease: -1 })).toThrow(RangeError);
  });
});

describe('validateCandidate before any holdout exists', () => {
  it('judges the weights only: finite ones pass, a NaN is still refused', () => {
    const finite = validateCandidate({ candidate: { holdoutLoss: null, tensors: [{ name: 'w', values: new Float32Array([1, 2]) }] }, live: null }, { maxLossIncrease: 0.05 });
    expect(finite).toMatchObject({ accept: true, figures: { candidateLoss: null, tensorsChecked: 1 } });
    const poisoned = validateCandidate({ candidate: { holdoutLoss: null, tensors: [{ name: 'w', values: new Float32Array([1, Number.NaN]) }] }, live: null }, { maxLossIncrease: 0.05 });
    expect(poisoned).toMatchObject({ accept: false, code: 'non-finite-weights' });
  });
});

describe('validateCandidate on what users get (holdout HR@10 / NDCG@10)', () => {
  const tensors = [{ name: 'w', values: new Float32Array([1]) }];
  const gate = { maxLossIncrease: 0.5, maxRankingDrop: 0.01 };
  const judge = (candidate: { hr10: number; ndcg10: number }, live: { hr10: number; ndcg10: number }, loss = 2) =>
    validateCandidate({ candidate: { holdoutLoss: loss, holdoutRanking: candidate, tensors }, live: { holdoutLoss: 2, holdoutRanking: live } }, gate);

  it('refuses a candidate whose loss is fine but whose ranking is worse than the margin', () => {
    const d = judge({ hr10: 0.2, ndcg10: 0.1 }, { hr10: 0.25, ndcg10: 0.1 }, 1.9);
    expect(d).toMatchObject({ accept: false, code: 'ranking-regressed', figures: { candidateHr10: 0.2, liveHr10: 0.25 } });
    if (!d.accept) expect(d.reason).toContain('HR@10');
    expect(judge({ hr10: 0.25, ndcg10: 0.08 }, { hr10: 0.25, ndcg10: 0.1 })).toMatchObject({ accept: false, code: 'ranking-regressed' });
  });

  it('accepts a drop within the margin, and any gain', () => {
    expect(judge({ hr10: 0.245, ndcg10: 0.095 }, { hr10: 0.25, ndcg10: 0.1 })).toMatchObject({ accept: true, figures: { candidateNdcg10: 0.095, liveNdcg10: 0.1 } });
    expect(judge({ hr10: 0.3, ndcg10: 0.2 }, { hr10: 0.25, ndcg10: 0.1 })).toMatchObject({ accept: true });
  });

  it('does not check ranking when the margin is unset, and validates the margin', () => {
    const d = validateCandidate(
      { candidate: { holdoutLoss: 2, holdoutRanking: { hr10: 0, ndcg10: 0 }, tensors }, live: { holdoutLoss: 2, holdoutRanking: { hr10: 1, ndcg10: 1 } } },
      { maxLossIncrease: 0.5 },
    );
    expect(d.accept).toBe(true);
    expect(() => judge({ hr10: 0, ndcg10: 0 }, { hr10: 0, ndcg10: 0 }) && validateCandidate({ candidate: { holdoutLoss: 1, tensors }, live: null }, { maxLossIncrease: 0.1, maxRankingDrop: -1 })).toThrow(RangeError);
  });
});

describe('pairedRankingNoise', () => {
  it('is zero for identical rankings and the standard error of the hit differences otherwise', () => {
    expect(pairedRankingNoise([0, 3, 20, 50], [0, 3, 20, 50])).toEqual({ hr10: 0, ndcg10: 0 });
    // Hits 1,1,0,0 against 0,1,1,0: differences 1,0,-1,0, mean 0, sample variance 2/3, s.e. sqrt(2/3/4).
    expect(pairedRankingNoise([0, 1, 50, 50], [50, 1, 0, 50]).hr10).toBeCloseTo(Math.sqrt(2 / 3 / 4), 12);
  });
});
