import { scrapeMetrics } from '../../scripts/lib/metrics-scrape.js';

/**
 * Sum of one metric's samples on a service's `/metrics` whose labels include `labels` (0 when the
 * series is absent: a labelled counter appears only once it was first incremented).
 */
export async function metricSum(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const family = (await scrapeMetrics(url)).get(name);
  return (family?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/** The label values one metric's samples carry for `label` (for example which variants a counter counts). */
export async function metricLabelValues(url: string, name: string, label: string): Promise<string[]> {
  const family = (await scrapeMetrics(url)).get(name);
  return [...new Set((family?.samples ?? []).filter((s) => s.name === name).map((s) => s.labels[label] ?? ''))].sort();
}
