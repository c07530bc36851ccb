import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVING_ERRORS } from './errors.js';
import { ServingMetrics } from './metrics.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('catalogues are documented', () => {
  it('every error code is in the README with its status', () => {
    for (const [code, spec] of Object.entries(SERVING_ERRORS)) expect(readme).toContain(`| \`${code}\` | ${spec.status} |`);
  });

  it('every reco_* metric is in the README', async () => {
    const metrics = new ServingMetrics({ defaultMetrics: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      expect(name).toMatch(/^reco_/);
      expect(readme).toContain(`| \`${name}\` |`);
    }
  });
});
