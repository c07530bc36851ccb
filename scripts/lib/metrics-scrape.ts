/**
 * Reading a service's `/metrics` (Prometheus text exposition format 0.0.4, what prom-client writes)
 * from scripts: scrape, parse into families, and take differences between two scrapes so a
 * benchmark can attribute counters and histograms to one phase of a run.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface MetricSample {
  /** The sample's own name: `x_bucket`, `x_sum`, `x_count` for a histogram `x`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: MetricSample[];
}

const SUFFIXES: Record<MetricType, readonly string[]> = {
  counter: ['', '_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
  untyped: [''],
};

function isMetricType(value: string): value is MetricType {
  return value in SUFFIXES;
}

/** Families by name, in the order they appear. Lines that do not parse are skipped, not fatal. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const family = (name: string): MetricFamily => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { name, type: 'untyped', help: '', samples: [] }));
    return found;
  };
  let current: MetricFamily | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)\s?(.*)$/.exec(line);
      if (!meta) continue;
      const [, kind, name = '', rest = ''] = meta;
      current = family(name);
      if (kind === 'HELP') current.help = rest;
      else if (isMetricType(rest.trim())) current.type = rest.trim() as MetricType;
      continue;
    }
    const sample = parseSampleLine(line);
    if (!sample) continue;
    const owner = current && belongsTo(sample.name, current) ? current : family(sample.name);
    owner.samples.push(sample);
  }
  return families;
}

function belongsTo(sampleName: string, family: MetricFamily): boolean {
  return SUFFIXES[family.type].some((suffix) => sampleName === family.name + suffix);
}

function parseSampleLine(line: string): MetricSample | undefined {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!head?.[1]) return undefined;
  const name = head[1];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest);
    if (!parsed) return undefined;
    Object.assign(labels, parsed.labels);
    rest = rest.slice(parsed.length);
  }
  const valueText = rest.trim().split(/\s+/)[0] ?? '';
  const value = parseValue(valueText);
  return value === undefined ? undefined : { name, labels, value };
}

/** `{a="x",b="y\"z"}` at the start of `text`: the labels and how many characters they took. */
function parseLabels(text: string): { labels: Record<string, string>; length: number } | undefined {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { labels, length: i + 1 };
    const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (!key || text[i + key.length] !== '=' || text[i + key.length + 1] !== '"') return undefined;
    i += key.length + 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) return undefined;
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const escaped = text[i++];
        value += escaped === 'n' ? '\n' : (escaped ?? '');
      } else value += c;
    }
    labels[key] = value;
  }
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (text === '') return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** GET `<baseUrl>/metrics`, parsed; throws with the status when the service does not answer 200. */
export async function scrapeMetrics(baseUrl: string): Promise<Map<string, MetricFamily>> {
  const response = await fetch(`${baseUrl}/metrics`);
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${baseUrl}/metrics answered ${response.status}: ${text.slice(0, 200)}`);
  return parsePrometheusText(text);
}

/** A stable key for one series: sample name plus its labels, sorted. */
export function seriesKey(sample: Pick<MetricSample, 'name' | 'labels'>): string {
  const labels = Object.entries(sample.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return labels === '' ? sample.name : `${sample.name}{${labels}}`;
}

/**
 * `after - before` for every sample of `after` (a sample missing from `before` counts from 0).
 * Meant for counters and histograms, which only grow while the process lives.
 */
export function sampleDelta(before: MetricFamily | undefined, after: MetricFamily): MetricSample[] {
  const previous = new Map((before?.samples ?? []).map((s) => [seriesKey(s), s.value]));
  return after.samples.map((s) => ({ ...s, value: s.value - (previous.get(seriesKey(s)) ?? 0) }));
}

/** Sum and count of a histogram (or summary) over all its label sets. */
export function histogramTotals(samples: readonly MetricSample[], familyName: string): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const s of samples) {
    if (s.name === `${familyName}_sum`) sum += s.value;
    else if (s.name === `${familyName}_count`) count += s.value;
  }
  return { sum, count };
}
