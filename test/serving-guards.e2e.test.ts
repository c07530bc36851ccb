import { fromDeadLetterMessage } from '@reco/stream';
import { uniqueName } from '@reco/stream/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createE2eContext, until, type E2eContext } from './harness/e2e-context.js';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';
import { ladderSnapshot } from './harness/snapshots.js';

let ctx: E2eContext;
let serving: ServiceProcess;
const token = 'e2e-admin-token';

beforeAll(async () => {
  ctx = await createE2eContext('guards');
  serving = await startService('serving', { ...ctx.env, RECO_ADMIN_TOKEN: token, RECO_DEFAULT_VARIANT: 'ladder' });
});

afterAll(async () => {
  await serving?.stop();
  await ctx?.close();
});

async function models(): Promise<Array<{ variant: string; version: number }>> {
  const response = await fetch(`${serving.url}/v1/models`);
  return ((await response.json()) as { variants: Array<{ variant: string; version: number }> }).variants;
}

async function publish(snapshot: Awaited<ReturnType<typeof ladderSnapshot>>): Promise<void> {
  await ctx.publishSnapshot(snapshot);
}

async function metricValue(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${serving.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('serving refuses bad snapshots and keeps answering', () => {
  it('refuses NaN weights and a foreign backbone; the previous version keeps answering', async () => {
    await publish(await ladderSnapshot(ctx.fixture.checkpoint, 1, 0.01));
    await until('version 1 live', async () => ((await models()).find((m) => m.variant === 'ladder')?.version === 1 ? true : undefined));

    const poisoned = await ladderSnapshot(ctx.fixture.checkpoint, 2, 0.01);
    const firstTensor = poisoned.tensors[0];
    if (firstTensor) firstTensor.values[0] = Number.NaN;
    await publish(poisoned);
    const foreign = await ladderSnapshot(ctx.fixture.checkpoint, 3, 0.01);
    foreign.meta.backboneId = 'f'.repeat(64);
    await publish(foreign);

    await until('both refusals counted', async () => {
      const refused = (await fetch(`${serving.url}/metrics`).then((r) => r.text())).match(/^reco_snapshots_refused_total\{[^}]*variant="ladder"[^}]*\} (\d+)/gm) ?? [];
      const total = refused.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
      return total >= 2 ? true : undefined;
    });
    expect((await models()).find((m) => m.variant === 'ladder')?.version).toBe(1);
    const answer = (await (await fetch(`${serving.url}/v1/recommendations?userId=${ctx.fixture.world.pretrainLog[0]?.userId ?? 'u0'}&variant=ladder`)).json()) as { version: number };
    expect(answer.version).toBeLessThanOrEqual(1);
  });
});

describe('serving rejects bad input with the field named', () => {
  it('400 for a bad query names the field', async () => {
    const response = await fetch(`${serving.url}/v1/recommendations?userId=u1&k=zero`);
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('k');
  });

  it('a mixed batch: valid events are produced, invalid ones get 400 by field and land in the DLQ with reasons', async () => {
    const ts = Date.now();
    const response = await fetch(`${serving.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          { userId: 'u-guard', itemId: 'i1', type: 'click', ts },
          { userId: 'u-guard', itemId: 'i2', type: 'hover', ts },
          { userId: 'u-guard', type: 'click', ts },
        ],
      }),
    });
    expect(response.status).toBe(400);
    const body = JSON.stringify(await response.json());
    expect(body).toContain('events[1].type');
    expect(body).toContain('events[2].itemId');
    expect(body).toMatch(/"accepted":1/);

    const consumer = ctx.kafka.consumer({ groupId: uniqueName('dlq-reader'), maxWaitTimeInMs: 100 });
    const letters: ReturnType<typeof fromDeadLetterMessage>[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: ctx.topics.deadLetter.name, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void letters.push(fromDeadLetterMessage(message)) });
    await until('two dead letters', () => (letters.length >= 2 ? true : undefined));
    await consumer.disconnect();
    expect(letters.map((l) => l.reason).join(' | ')).toContain('unknown event type "hover"');
    expect(letters.map((l) => l.reason).join(' | ')).toContain('itemId is required');
  });

  it('413 for an oversized body', async () => {
    const huge = JSON.stringify({ events: Array.from({ length: 1000 }, (_, i) => ({ userId: `u${i}`, itemId: 'x'.repeat(120), type: 'click', ts: Date.now(), pad: 'y'.repeat(2000) })) });
    const response = await fetch(`${serving.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    expect(response.status).toBe(413);
  });

  it('rollback needs the bearer token: 401 without, 403 with a wrong one', async () => {
    const url = `${serving.url}/v1/models/ladder/rollback`;
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', headers: { authorization: 'Bearer nope' } })).status).toBe(403);
    expect((await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(409); // only one version so far
  });
});

describe('metrics', () => {
  it('exposes the metrics DESIGN.md lists', async () => {
    const text = await (await fetch(`${serving.url}/metrics`)).text();
    const names = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const name of [
      'reco_http_request_duration_seconds',
      'reco_recommendations_total',
      'reco_events_accepted_total',
      'reco_events_rejected_total',
      'reco_snapshots_applied_total',
      'reco_snapshots_refused_total',
      'reco_live_version',
      'reco_swaps_total',
      'reco_snapshot_freshness_seconds',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(await metricValue('reco_live_version', 'variant="ladder"')).toBe(1);
  });
});
