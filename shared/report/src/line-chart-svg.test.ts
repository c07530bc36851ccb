import { createRng } from '@reco/data';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeXml, renderLineChartSvg, type ChartSeries } from './line-chart-svg.js';

/**
 * A small well-formedness check: every tag closes in order, attribute values are quoted,
 * and text holds no raw '<' or stray '&'. Enough to catch broken escaping or nesting.
 */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf('<', i);
    const text = svg.slice(i, lt === -1 ? svg.length : lt);
    expect(text, `text ${JSON.stringify(text)}`).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    expect(m, `malformed tag at ${svg.slice(lt, lt + 60)}`).not.toBeNull();
    if (m === null) return;
    const [whole, closing, name, , selfClosing] = m;
    if (closing === '/') expect(stack.pop()).toBe(name);
    else if (selfClosing !== '/') stack.push(name ?? '');
    i = lt + whole.length;
  }
  expect(stack).toEqual([]);
}

const curve = (name: string, seed: number, n = 40): ChartSeries => {
  const rng = createRng(seed);
  let y = 0.3;
  return {
    name,
    points: Array.from({ length: n }, (_, i) => {
      y = Math.min(1, Math.max(0, y + (rng.next() - 0.45) * 0.05 - (i === 20 ? 0.2 : 0)));
      return { x: (i + 1) * 500, y };
    }),
  };
};

describe('renderLineChartSvg', () => {
  const svg = renderLineChartSvg({
    title: 'Prequential HR@10 <synthetic drift>',
    xLabel: 'events',
    yLabel: 'HR@10',
    series: [curve('ladder', 1), curve('lora', 2), curve('frozen', 3), curve('full & "fine-tune"', 4)],
    verticalMarkers: [
      { x: 10_000, label: 'drift 1' },
      { x: 15_000, label: 'new item <X>' },
    ],
  });

  it('is a well-formed, self-contained SVG document', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    assertWellFormed(svg);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    expect(svg).not.toMatch(/href=|<script/);
  });

  it('lists every series in the legend, escaped, each in its own colour', () => {
    const legend = svg.slice(svg.indexOf('<g class="legend"'));
    for (const name of ['ladder', 'lora', 'frozen', 'full &amp; &quot;fine-tune&quot;']) expect(legend).toContain(`>${name}</text>`);
    expect(svg).toContain('Prequential HR@10 &lt;synthetic drift&gt;');
    expect(svg).not.toContain('<synthetic');
    const colours = [...svg.matchAll(/<polyline points="[^"]*" stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(new Set(colours).size).toBe(4);
  });

  it('draws axes with labelled ticks and the axis titles', () => {
    expect(svg).toContain('>events</text>');
    expect(svg).toContain('>HR@10</text>');
    const tickLabels = svg.slice(svg.indexOf('<g class="tick-labels"'), svg.indexOf('</g>', svg.indexOf('<g class="tick-labels"')));
    expect(tickLabels).toContain('>10k</text>');
    expect((tickLabels.match(/<text /g) ?? []).length).toBeGreaterThanOrEqual(6);
  });

  it('draws each vertical marker dashed, with its label escaped', () => {
    const markers = svg.slice(svg.indexOf('<g class="markers"'));
    expect((markers.match(/stroke-dasharray="5 4"/g) ?? []).length).toBe(2);
    expect(markers).toContain('>drift 1</text>');
    expect(markers).toContain('>new item &lt;X&gt;</text>');
  });

  it('breaks lines at non-finite points, draws lone points as dots, survives flat and empty data', () => {
    const gappy = renderLineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        { name: 'a', points: [{ x: 0, y: 1 }, { x: 1, y: 1 }, { x: 2, y: NaN }, { x: 3, y: 1 }, { x: 4, y: 1 }] },
        { name: 'b', points: [{ x: 2, y: 1 }] },
      ],
    });
    assertWellFormed(gappy);
    expect((gappy.match(/<polyline /g) ?? []).length).toBe(2);
    expect((gappy.match(/<circle /g) ?? []).length).toBe(1);
    expect(gappy).not.toMatch(/NaN|Infinity/);

    const empty = renderLineChartSvg({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] });
    assertWellFormed(empty);
    expect(empty).toContain('>no data</text>');
  });

  it('orders points by x and uses more than ten distinct styles', () => {
    const many = renderLineChartSvg({
      title: 'many',
      xLabel: 'x',
      yLabel: 'y',
      series: Array.from({ length: 12 }, (_, i) => ({ name: `s${i}`, points: [{ x: 2, y: i }, { x: 1, y: i + 0.5 }] })),
    });
    assertWellFormed(many);
    const styles = [...many.matchAll(/<polyline points="([^"]*)" (stroke="[^"]*"(?: stroke-dasharray="[^"]*")?)/g)];
    expect(new Set(styles.map((m) => m[2])).size).toBe(12);
    const firstLine = styles[0]?.[1]?.split(' ').map((p) => Number(p.split(',')[0]));
    expect(firstLine?.[0]).toBeLessThan(firstLine?.[1] ?? 0);
  });

  it('copes with a curve too long to spread into Math.min', () => {
    const points = Array.from({ length: 300_000 }, (_, i) => ({ x: i, y: (i % 100) / 100 }));
    const long = renderLineChartSvg({ title: 'long', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points }] });
    expect(long).toContain('>300k</text>');
  });

  it('writes an example to the temp folder for a look', () => {
    const file = join(tmpdir(), 'reco-line-chart-example.svg');
    writeFileSync(file, svg);
    expect(svg.length).toBeGreaterThan(1000);
  });
});

describe('escapeXml', () => {
  it('escapes the five XML special characters', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});
