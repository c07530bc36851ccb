import { describe, expect, it } from 'vitest';
import { FigureSeries, percentileMs, type LiveVariants } from './dashboard-series.js';
import type { LiveModelMeta } from './live-model.js';

function meta(variant: string, version: number, appliedAt: number, figures: Record<string, number | null>): LiveModelMeta {
  return { variant, method: variant, version, backboneId: 'b', offsets: {}, examplesTrained: 0, figures, newestEventTs: null, publishedAt: null, appliedAt };
}

/** A registry whose answering versions the test moves by hand. */
function registry(): LiveVariants & { live: Map<string, LiveModelMeta> } {
  const live = new Map<string, LiveModelMeta>();
  return { live, variants: () => [...live.keys()], current: (v) => (live.has(v) ? { meta: live.get(v)! } : undefined) };
}

describe('FigureSeries', () => {
  it('adds a point per version answered, not per sample, and keeps rollbacks in time order', () => {
    const models = registry();
    const series = new FigureSeries();
    const v1 = meta('ladder', 1, 1000, { prequentialHr10: 0.1, prequentialNdcg10: 0.05 });
    models.live.set('ladder', v1);
    series.sample(models, 1500);
    series.sample(models, 2500);
    models.live.set('ladder', meta('ladder', 2, 3000, { prequentialHr10: 0.2, prequentialNdcg10: Number.NaN }));
    series.sample(models, 3100);
    models.live.set('ladder', v1); // rollback: the old meta object comes back
    series.sample(models, 4000);
    expect(series.points('ladder')).toEqual([
      { at: 1000, version: 1, hr10: 0.1, ndcg10: 0.05 },
      { at: 3000, version: 2, hr10: 0.2, ndcg10: null },
      { at: 4000, version: 1, hr10: 0.1, ndcg10: 0.05 },
    ]);
    expect(series.points('lora')).toEqual([]);
  });

  it('holds at most `capacity` points per variant, the newest', () => {
    const models = registry();
    const series = new FigureSeries(3);
    for (let v = 1; v <= 5; v++) {
      models.live.set('ladder', meta('ladder', v, v * 1000, { prequentialHr10: v / 10 }));
      series.sample(models, v * 1000);
    }
    expect(series.points('ladder').map((p) => p.version)).toEqual([3, 4, 5]);
    expect(() => new FigureSeries(0)).toThrow(RangeError);
  });
});

describe('percentileMs', () => {
  const bounds = [0.001, 0.01, 0.1, Number.POSITIVE_INFINITY];
  const cumulative = (counts: number[]): Array<[number, number]> => bounds.map((b, i) => [b, counts[i]!]);

  it("answers the bucket bound of the interval's 99th percentile, from deltas", () => {
    // Before: 100 fast requests. Interval: 98 more fast, 2 at <= 100 ms.
    const before = cumulative([100, 100, 100, 100]);
    const after = cumulative([198, 198, 200, 200]);
    expect(percentileMs(before, after, 0.99)).toBe(100);
    expect(percentileMs(before, after, 0.5)).toBe(1);
  });

  it('is null without requests and the last finite bound for a tail beyond it', () => {
    expect(percentileMs(cumulative([5, 5, 5, 5]), cumulative([5, 5, 5, 5]), 0.99)).toBeNull();
    expect(percentileMs(cumulative([0, 0, 0, 0]), cumulative([0, 0, 0, 10]), 0.99)).toBe(100);
  });
});
