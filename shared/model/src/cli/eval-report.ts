import type { DriftEvent } from '@reco/data';
import { renderLineChartSvg } from '@reco/report';
import { bestBaseline } from '../evaluation/baseline-suite.js';
import type { BaselineReplay } from '../evaluation/prequential-baselines.js';
import type { EvalMethodResult } from './eval-method.js';

const pct = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const ratio = (x: number, of: number | undefined): string => (of !== undefined && of > 0 && Number.isFinite(x) ? `${(x / of).toFixed(2)}x` : '-');

/**
 * The eval table as Markdown (pasteable into the README): every method, then the online
 * baselines as rows on the same clicks, with each row's HR@10 as a ratio to frozen's and to the
 * best baseline's, overall and over the last window.
 */
export function evalTable(results: readonly EvalMethodResult[], baselines: readonly BaselineReplay[] = []): string {
  const frozen = results.find((r) => r.row.method === 'frozen')?.row;
  const best = bestBaseline(baselines, (b) => b.overall.hr10);
  const bestLast = bestBaseline(baselines, (b) => b.last?.hr10 ?? 0);
  const header =
    '| method | trainable params (own + shared side) | HR@10 | NDCG@10 | HR@10 first window | HR@10 last window | HR@10 new items | x frozen (all / last) | x best baseline (all / last) | published / refused | step ms (median) | train examples/s | peak RSS MB |';
  const rule = '|' + '---|'.repeat(13);
  const lines = results.map((r) => {
    const x = r.row;
    const refused = Object.values(x.refused).reduce((a, b) => a + b, 0);
    return (
      `| ${x.method} | ${x.trainableParams} (${r.methodParams} + ${x.trainableParams - r.methodParams}) | ${pct(x.hr10)} | ${pct(x.ndcg10)} | ${pct(x.hr10First)} | ${pct(x.hr10Last)} | ${pct(x.newItemHr10)} | ` +
      `${ratio(x.hr10, frozen?.hr10)} / ${ratio(x.hr10Last, frozen?.hr10Last)} | ${ratio(x.hr10, best?.value)} / ${ratio(x.hr10Last, bestLast?.value)} | ${x.published} / ${refused} | ` +
      `${Number.isFinite(x.stepMsMedian) ? x.stepMsMedian.toFixed(1) : '-'} | ${Math.round(x.examplesPerSec)} | ${Math.round(x.peakRssMb)} |`
    );
  });
  const baselineLines = baselines.map((b) => {
    const last = b.last?.hr10 ?? Number.NaN;
    return (
      `| ${b.name} (baseline, online) | - | ${pct(b.overall.hr10)} | ${pct(b.overall.ndcg10)} | ${pct(b.first?.hr10 ?? Number.NaN)} | ${pct(last)} | ${pct(b.newItems.hr10)} | ` +
      `${ratio(b.overall.hr10, frozen?.hr10)} / ${ratio(last, frozen?.hr10Last)} | ${ratio(b.overall.hr10, best?.value)} / ${ratio(last, bestLast?.value)} | - | - | - | - |`
    );
  });
  return [header, rule, ...lines, ...baselineLines].join('\n');
}

/** Prequential HR@10 per window over stream time, one line per method and baseline, drifts as markers. */
export function evalPlot(results: readonly EvalMethodResult[], baselines: readonly BaselineReplay[], drifts: readonly DriftEvent[], streamStartTs: number, title: string): string {
  const span = Math.max(1, ...results.flatMap((r) => r.windows.map((w) => (w.ts ?? streamStartTs) - streamStartTs)));
  // Hours for a stream of a day or two (the synthetic world), days for a real log of months.
  const unit = span > 72 * 3_600_000 ? { ms: 86_400_000, name: 'days' } : { ms: 3_600_000, name: 'hours' };
  const at = (ts: number): number => (ts - streamStartTs) / unit.ms;
  return renderLineChartSvg({
    title,
    xLabel: `stream time (${unit.name})`,
    yLabel: 'prequential HR@10 (full ranking, seen excluded, per window)',
    series: [
      ...results.map((r) => ({ name: r.row.method, points: r.windows.map((w) => ({ x: at(w.ts ?? Number.NaN), y: w.hr10 })) })),
      ...baselines.map((b) => ({ name: `${b.name} (baseline)`, points: b.windows.map((w) => ({ x: at(w.ts ?? Number.NaN), y: w.hr10 })) })),
    ],
    verticalMarkers: drifts.map((d) => ({ x: at(d.ts), label: d.kind })),
  });
}
