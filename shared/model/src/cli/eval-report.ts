import type { DriftEvent } from '@reco/data';
import { renderLineChartSvg } from '@reco/report';
import type { EvalMethodResult } from './eval-method.js';

const pct = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');

/** The eval table as Markdown (pasteable into the README). */
export function evalTable(results: readonly EvalMethodResult[]): string {
  const header =
    '| method | trainable params (own + shared side) | % of backbone | HR@10 | NDCG@10 | HR@10 first window | HR@10 last window | HR@10 new items | step ms (median) | train examples/s | peak RSS MB |';
  const rule = '|' + '---|'.repeat(11);
  const lines = results.map((r) => {
    const x = r.row;
    const share = ((100 * x.trainableParams) / r.backboneParams).toFixed(1);
    return `| ${x.method} | ${x.trainableParams} (${r.methodParams} + ${x.trainableParams - r.methodParams}) | ${share} | ${pct(x.hr10)} | ${pct(x.ndcg10)} | ${pct(x.hr10First)} | ${pct(x.hr10Last)} | ${pct(x.newItemHr10)} | ${Number.isFinite(x.stepMsMedian) ? x.stepMsMedian.toFixed(1) : '-'} | ${Math.round(x.examplesPerSec)} | ${Math.round(x.peakRssMb)} |`;
  });
  return [header, rule, ...lines].join('\n');
}

/** Prequential HR@10 per window over stream time, one line per method, drifts as markers. */
export function evalPlot(results: readonly EvalMethodResult[], drifts: readonly DriftEvent[], streamStartTs: number, title: string): string {
  const hours = (ts: number): number => (ts - streamStartTs) / 3_600_000;
  return renderLineChartSvg({
    title,
    xLabel: 'stream time (hours)',
    yLabel: 'prequential HR@10 (full ranking, per window)',
    series: results.map((r) => ({ name: r.row.method, points: r.windows.map((w) => ({ x: hours(w.ts ?? Number.NaN), y: w.hr10 })) })),
    verticalMarkers: drifts.map((d) => ({ x: hours(d.ts), label: d.kind })),
  });
}
