import { describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { createUpdaterMetrics } from './metrics.js';

describe('updater http', () => {
  it('answers /healthz, reports readiness and serves its metrics', async () => {
    const metrics = createUpdaterMetrics({ defaultMetrics: false });
    metrics.trainingSteps.inc({ variant: 'ladder' }, 3);
    let running = false;
    const app = await buildApp({ registry: metrics.registry, isRunning: () => running });
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    running = true;
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    const scraped = await app.inject('/metrics');
    expect(scraped.headers['content-type']).toContain('text/plain');
    expect(scraped.body).toContain('reco_training_steps_total{variant="ladder"} 3');
    await app.close();
  });
});
