import { Writable } from 'node:stream';
import { createLogger, type ConsumerHealth } from '@reco/stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { createUpdaterMetrics } from './metrics.js';

describe('updater http', () => {
  it('answers /healthz, reports the consumer state on every /readyz and serves its metrics', async () => {
    const metrics = createUpdaterMetrics({ defaultMetrics: false });
    metrics.trainingSteps.inc({ variant: 'ladder' }, 3);
    let health: ConsumerHealth | undefined;
    const app = await buildApp({ registry: metrics.registry, consumer: () => health });
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'not-ready', reasons: ['events consumer not started'], consumers: [] });
    const base = { name: 'events', topic: 'reco.events', sinceMs: 0, restarts: 0, lag: 0, lastError: undefined };
    health = { ...base, state: 'running' };
    const ready = await app.inject('/readyz');
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready', reasons: [], consumers: [{ name: 'events', state: 'running' }] }]);
    // A broker restart: the same process, the consumer down, so not ready (the old flag said ready).
    health = { ...base, state: 'reconnecting', restarts: 2, lastError: 'KafkaJSConnectionError: Connection error: connect ECONNREFUSED 10.0.0.7:9092' };
    const down = await app.inject('/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'not-ready', reasons: ['events consumer reconnecting to Kafka'], consumers: [{ name: 'events', state: 'reconnecting' }] });
    expect(down.body).not.toMatch(/10\.0\.0\.7|9092|ECONNREFUSED/);
    health = { ...base, state: 'failed', lastError: 'TypeError: boom' };
    expect((await app.inject('/readyz')).json()).toMatchObject({ status: 'not-ready', consumers: [{ state: 'failed' }] });
    const scraped = await app.inject('/metrics');
    expect(scraped.headers['content-type']).toContain('text/plain');
    expect(scraped.body).toContain('reco_training_steps_total{variant="ladder"} 3');
    await app.close();
  });

  it('a standby is ready (it is doing its job; a rolling update must go on), an updater not yet told its role is not, an active one as its consumer', async () => {
    let role: 'starting' | 'standby' | 'active' = 'starting';
    let health: ConsumerHealth | undefined = undefined;
    const app = await buildApp({ consumer: () => health, role: () => role });
    const starting = await app.inject('/readyz');
    expect([starting.statusCode, starting.json()]).toEqual([503, { status: 'not-ready', reasons: ['waiting for the lease group to name the active updater'], consumers: [], role: 'starting' }]);
    role = 'standby';
    const standby = await app.inject('/readyz');
    expect([standby.statusCode, standby.json()]).toEqual([200, { status: 'ready', reasons: [], consumers: [], role: 'standby' }]);
    role = 'active';
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'not-ready', reasons: ['events consumer not started'], consumers: [], role: 'active' });
    health = { name: 'events', topic: 'reco.events', sinceMs: 0, restarts: 0, lag: 0, lastError: undefined, state: 'running' };
    const active = await app.inject('/readyz');
    expect([active.statusCode, active.json()]).toEqual([200, { status: 'ready', reasons: [], consumers: [{ name: 'events', state: 'running' }], role: 'active' }]);
    await app.close();
  });

  it('logs one debug line per request and nothing at info (scrapes every few seconds would drown the log)', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const app = await buildApp({ logger: createLogger({ name: 'updater', level: 'debug', pretty: false, destination: sink }) });
    await app.inject('/healthz');
    await app.inject('/nowhere');
    const requests = lines.filter((l) => l.msg === 'request completed');
    expect(requests.map((l) => [l.level, l.method, l.url, l.statusCode])).toEqual([
      [20, 'GET', '/healthz', 200],
      [20, 'GET', '/nowhere', 404],
    ]);
    expect(lines.filter((l) => typeof l.level === 'number' && l.level >= 30)).toEqual([]);
    await app.close();
  });
});
