import { readFileSync } from 'node:fs';
import { ServingMetrics } from '@reco/serving';
import { createUpdaterMetrics } from '@reco/updater';
import { describe, expect, it } from 'vitest';

// Every series an operator's dashboard or alert asks for must exist, or the panel stays empty
// and the alert never fires. Names come from the services' own registries, not a hand-kept list.
const infra = new URL('../infra/', import.meta.url);
const dashboard = readFileSync(new URL('grafana/dashboards/reco.json', infra), 'utf8');
const alerts = readFileSync(new URL('prometheus/alerts.yml', infra), 'utf8');

function queriedMetrics(text: string): Set<string> {
  return new Set([...text.matchAll(/\breco_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
}

async function exportedMetrics(): Promise<Set<string>> {
  const serving = new ServingMetrics({ defaultMetrics: false });
  const updater = createUpdaterMetrics({ defaultMetrics: false });
  const names = [...(await serving.registry.getMetricsAsJSON()), ...(await updater.registry.getMetricsAsJSON())].map((m) => m.name);
  return new Set(names);
}

describe('monitoring config', () => {
  it('queries only metrics that the services export', async () => {
    const exported = await exportedMetrics();
    const queried = new Set([...queriedMetrics(dashboard), ...queriedMetrics(alerts)]);
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('the dashboard is valid JSON with a query in every panel', () => {
    const parsed = JSON.parse(dashboard) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    for (const panel of parsed.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
  });
});
