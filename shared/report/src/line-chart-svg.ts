/**
 * A dependency-free SVG line chart for benchmark and drift reports (prequential HR@10 over
 * events, per adaptation method, with the drift points marked). A static string keeps reports
 * viewable anywhere (browser, GitHub, CI artefacts) without a plotting stack in the repo.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  /** Drawn in x order; a non-finite point breaks the line instead of dragging it to 0. */
  points: ChartPoint[];
}

export interface VerticalMarker {
  x: number;
  label: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** Dashed vertical lines, e.g. where the synthetic world drifted. */
  verticalMarkers?: VerticalMarker[];
}

/**
 * Tableau 10: distinguishable from each other and on white, and still distinct for the most
 * common colour-vision deficiencies. Past ten series the colours repeat with a dash pattern.
 */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const DASHES = ['', '6 3', '2 2', '8 3 2 3'];

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

interface Scale {
  min: number;
  max: number;
  ticks: number[];
  step: number;
}

/** Ticks at 1, 2 or 5 times a power of ten, about `target` of them, covering [lo, hi]. */
function niceScale(lo: number, hi: number, target: number): Scale {
  let a = lo;
  let b = hi;
  if (a === b) {
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    a -= pad;
    b += pad;
  }
  const raw = (b - a) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const step = (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude;
  const min = Math.floor(a / step + 1e-9) * step;
  const max = Math.ceil(b / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; min + i * step <= max + step * 1e-9; i++) ticks.push(min + i * step);
  return { min, max, ticks, step };
}

/** Tick text with as many decimals as the step needs, and k/M for large values. */
function formatTick(value: number, step: number): string {
  const abs = Math.abs(step);
  const [divisor, suffix] = abs >= 1e6 ? [1e6, 'M'] : abs >= 1e3 ? [1e3, 'k'] : [1, ''];
  const scaledStep = abs / divisor;
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(scaledStep) + 1e-9)));
  const text = (value / divisor).toFixed(decimals);
  return (Number(text) === 0 ? (0).toFixed(decimals) : text) + suffix;
}

const r = (v: number): string => String(Math.round(v * 100) / 100);

export function renderLineChartSvg(opts: LineChartOptions): string {
  const width = opts.width ?? 800;
  const height = opts.height ?? 420;
  const markers = (opts.verticalMarkers ?? []).filter((m) => Number.isFinite(m.x));
  const series = opts.series.map((s) => ({
    name: s.name,
    points: [...s.points].sort((p, q) => p.x - q.x),
  }));

  const finite = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  const hasData = finite.length > 0;
  const xs = [...finite.map((p) => p.x), ...markers.map((m) => m.x)];
  const ys = finite.map((p) => p.y);
  const xScale = xs.length > 0 ? niceScale(minOf(xs), maxOf(xs), 8) : niceScale(0, 1, 5);
  const yScale = ys.length > 0 ? niceScale(minOf(ys), maxOf(ys), 6) : niceScale(0, 1, 5);

  const legendWidth = series.length > 0 ? Math.min(220, 36 + 7 * maxOf(series.map((s) => s.name.length))) : 0;
  const left = 72;
  const right = 16 + legendWidth;
  const top = 48 + (markers.length > 0 ? 18 : 0);
  const bottom = 56;
  const plotW = Math.max(10, width - left - right);
  const plotH = Math.max(10, height - top - bottom);
  const px = (x: number): number => left + ((x - xScale.min) / (xScale.max - xScale.min)) * plotW;
  const py = (y: number): number => top + plotH - ((y - yScale.min) / (yScale.max - yScale.min)) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `role="img" aria-label="${escapeXml(opts.title)}">`,
  );
  out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${r(left + plotW / 2)}" y="24" text-anchor="middle" font-size="16" font-weight="600" ${FONT}>${escapeXml(opts.title)}</text>`,
  );

  // Grid and ticks first so the data is drawn over them.
  out.push('<g class="grid" stroke="#e5e5e5" stroke-width="1">');
  for (const t of yScale.ticks) out.push(`<line x1="${left}" y1="${r(py(t))}" x2="${r(left + plotW)}" y2="${r(py(t))}"/>`);
  for (const t of xScale.ticks) out.push(`<line x1="${r(px(t))}" y1="${top}" x2="${r(px(t))}" y2="${r(top + plotH)}"/>`);
  out.push('</g>');

  out.push(`<g class="axes" stroke="#333333" stroke-width="1">`);
  out.push(`<line x1="${left}" y1="${r(top + plotH)}" x2="${r(left + plotW)}" y2="${r(top + plotH)}"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${r(top + plotH)}"/>`);
  for (const t of yScale.ticks) out.push(`<line x1="${left - 5}" y1="${r(py(t))}" x2="${left}" y2="${r(py(t))}"/>`);
  for (const t of xScale.ticks) out.push(`<line x1="${r(px(t))}" y1="${r(top + plotH)}" x2="${r(px(t))}" y2="${r(top + plotH + 5)}"/>`);
  out.push('</g>');

  out.push(`<g class="tick-labels" font-size="11" fill="#333333" ${FONT}>`);
  for (const t of yScale.ticks) {
    out.push(`<text x="${left - 8}" y="${r(py(t) + 4)}" text-anchor="end">${formatTick(t, yScale.step)}</text>`);
  }
  for (const t of xScale.ticks) {
    out.push(`<text x="${r(px(t))}" y="${r(top + plotH + 18)}" text-anchor="middle">${formatTick(t, xScale.step)}</text>`);
  }
  out.push('</g>');

  out.push(
    `<text x="${r(left + plotW / 2)}" y="${height - 14}" text-anchor="middle" font-size="13" ${FONT}>${escapeXml(opts.xLabel)}</text>`,
  );
  const yLabelY = top + plotH / 2;
  out.push(
    `<text x="18" y="${r(yLabelY)}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${r(yLabelY)})" ${FONT}>` +
      `${escapeXml(opts.yLabel)}</text>`,
  );

  if (markers.length > 0) {
    out.push(`<g class="markers" ${FONT} font-size="11" fill="#555555">`);
    markers.forEach((m, i) => {
      const x = r(px(m.x));
      // Alternate two label rows so neighbouring markers do not print over each other.
      const labelY = top - 6 - (i % 2) * 14;
      out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${r(top + plotH)}" stroke="#555555" stroke-width="1" stroke-dasharray="5 4"/>`);
      out.push(`<text x="${x}" y="${labelY}" text-anchor="middle">${escapeXml(m.label)}</text>`);
    });
    out.push('</g>');
  }

  out.push(`<g class="series" fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">`);
  series.forEach((s, i) => {
    const { color, dash } = styleOf(i);
    const dashAttr = dash === '' ? '' : ` stroke-dasharray="${dash}"`;
    for (const run of finiteRuns(s.points)) {
      if (run.length === 1) {
        const p = run[0] as ChartPoint;
        out.push(`<circle cx="${r(px(p.x))}" cy="${r(py(p.y))}" r="3" fill="${color}" stroke="none"/>`);
      } else {
        const d = run.map((p) => `${r(px(p.x))},${r(py(p.y))}`).join(' ');
        out.push(`<polyline points="${d}" stroke="${color}"${dashAttr}/>`);
      }
    }
  });
  out.push('</g>');

  if (!hasData) {
    out.push(
      `<text x="${r(left + plotW / 2)}" y="${r(top + plotH / 2)}" text-anchor="middle" font-size="13" fill="#888888" ${FONT}>no data</text>`,
    );
  }

  if (series.length > 0) {
    const lx = left + plotW + 16;
    out.push(`<g class="legend" font-size="12" ${FONT}>`);
    series.forEach((s, i) => {
      const { color, dash } = styleOf(i);
      const y = top + 8 + i * 18;
      const dashAttr = dash === '' ? '' : ` stroke-dasharray="${dash}"`;
      out.push(`<line x1="${lx}" y1="${y}" x2="${lx + 22}" y2="${y}" stroke="${color}" stroke-width="2"${dashAttr}/>`);
      out.push(`<text x="${lx + 28}" y="${y + 4}" fill="#222222">${escapeXml(s.name)}</text>`);
    });
    out.push('</g>');
  }

  out.push('</svg>');
  return out.join('\n');
}

function styleOf(index: number): { color: string; dash: string } {
  return {
    color: PALETTE[index % PALETTE.length] ?? '#000000',
    dash: DASHES[Math.floor(index / PALETTE.length) % DASHES.length] ?? '',
  };
}

/** Splits a line at non-finite points, so a gap in the data shows as a gap. */
function finiteRuns(points: ChartPoint[]): ChartPoint[][] {
  const runs: ChartPoint[][] = [];
  let run: ChartPoint[] = [];
  for (const p of points) {
    if (Number.isFinite(p.x) && Number.isFinite(p.y)) {
      run.push(p);
    } else if (run.length > 0) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

// Loops rather than Math.min(...values): spreading a long curve overflows the call stack.
function minOf(values: readonly number[]): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}

function maxOf(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}
