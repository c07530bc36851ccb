import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createE2eContext, liveVersion, until, type E2eContext } from './harness/e2e-context.js';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';

interface Answer {
  variant: string;
  version: number;
  backboneId: string;
  items: { itemId: string; score: number }[];
}

let ctx: E2eContext;
let updater: ServiceProcess;
let serving: ServiceProcess;
const PUBLISH_INTERVAL_MS = 1000;

beforeAll(async () => {
  ctx = await createE2eContext('learning');
  const env = { ...ctx.env, RECO_VARIANTS: 'ladder', RECO_DEFAULT_VARIANT: 'ladder', RECO_PUBLISH_INTERVAL_MS: String(PUBLISH_INTERVAL_MS) };
  [updater, serving] = await Promise.all([startService('updater', env), startService('serving', env)]);
});

afterAll(async () => {
  await Promise.all([updater?.stop(), serving?.stop()]);
  await ctx?.close();
});

async function recommend(userId: string, history: string[]): Promise<Answer> {
  const response = await fetch(`${serving.url}/v1/recommendations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, history, k: 10, variant: 'ladder' }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Answer;
}


describe('learning reaches serving', () => {
  it('clicks posted to /v1/events become a live snapshot within the publish interval plus a second, and answers change', async () => {
    const { world, checkpoint } = ctx.fixture;
    const probeUser = world.usersInGroup(0)[0] ?? 'u0';
    const probeHistory = world.pretrainLog.filter((e) => e.userId === probeUser).slice(-8).map((e) => e.itemId);
    const before = await recommend(probeUser, probeHistory);
    expect(before).toMatchObject({ variant: 'ladder', version: 0, backboneId: checkpoint.backboneId });

    const stream = world.stream.filter((e) => e.type === 'click');
    const post = async (clicks: typeof stream): Promise<void> => {
      const now = Date.now();
      for (let i = 0; i < clicks.length; i += 100) {
        const events = clicks.slice(i, i + 100).map((e, j) => ({ userId: e.userId, itemId: e.itemId, type: 'click', ts: now + i + j }));
        const response = await fetch(`${serving.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
        expect(response.status).toBe(202);
      }
    };
    await post(stream.slice(0, 400));
    const acknowledged = Date.now();
    await until('a snapshot live in serving', async () => ((await liveVersion(serving.url, 'ladder')) >= 1 ? true : undefined), 30_000, 50);
    const elapsed = Date.now() - acknowledged;
    console.info(`click batch acknowledged -> snapshot live in serving: ${elapsed} ms (publish interval ${PUBLISH_INTERVAL_MS} ms)`);
    expect(elapsed).toBeLessThanOrEqual(PUBLISH_INTERVAL_MS + 1000); // the bound; measured 59-591 ms

    const after = await recommend(probeUser, probeHistory);
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.items.map((i) => i.score)).not.toEqual(before.items.map((i) => i.score));

    // The answering version keeps moving forward as more clicks are trained on. (More clicks, not
    // just time: the updater may well have trained all of the first 400 into its first snapshot.)
    await post(stream.slice(400, 600));
    const versions = [after.version];
    await until('a later version', async () => {
      const v = (await recommend(probeUser, probeHistory)).version;
      versions.push(v);
      return v > after.version ? true : undefined;
    }, 20_000, 200);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });

  it('a click posted to /v1/events shows in the user\'s next recommendations within about a second', async () => {
    const user = `fresh-${Date.now()}`;
    const item = ctx.fixture.checkpoint.itemIds[5] ?? 'i5';
    const first = (await (await fetch(`${serving.url}/v1/recommendations?userId=${user}&k=10`)).json()) as Answer & { fallback?: string };
    expect(first.fallback).toBe('popularity');
    const posted = Date.now();
    const response = await fetch(`${serving.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: user, itemId: item, type: 'click', ts: posted }) });
    expect(response.status).toBe(202);
    await until('the click in the user history', async () => {
      const answer = (await (await fetch(`${serving.url}/v1/recommendations?userId=${user}&k=10`)).json()) as Answer & { fallback?: string; historyLength: number };
      return answer.historyLength >= 1 && answer.fallback === undefined ? answer : undefined;
    }, 3000, 25);
    const elapsed = Date.now() - posted;
    console.info(`click -> in user history: ${elapsed} ms`);
    expect(elapsed).toBeLessThan(1500);
  });

  it('both services expose the metrics DESIGN.md lists', async () => {
    const names = async (url: string) => new Set([...(await (await fetch(`${url}/metrics`)).text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const updaterNames = await names(updater.url);
    for (const name of ['reco_training_steps_total', 'reco_training_loss', 'reco_prequential_hr10', 'reco_prequential_ndcg10', 'reco_snapshots_published_total', 'reco_live_version', 'reco_consumer_lag']) {
      expect(updaterNames, name).toContain(name);
    }
    const servingNames = await names(serving.url);
    for (const name of ['reco_http_request_duration_seconds', 'reco_recommendations_total', 'reco_swaps_total', 'reco_snapshot_freshness_seconds', 'reco_live_version']) {
      expect(servingNames, name).toContain(name);
    }
  });
});
