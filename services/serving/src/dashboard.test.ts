import { describe, expect, it } from 'vitest';
import type { DashboardResponse } from './schemas/dashboard.js';
import { ADMIN_TOKEN, harnessApplier, until, useFileHarness } from './testing/harness.js';
import { makeSnapshot } from './testing/tiny-backbone.js';

// The snapshot consumer carries the rollback route's record back to this replica.
const file = useFileHarness({ consumeSnapshots: true });

async function dashboard(): Promise<DashboardResponse> {
  const res = await file.h.app.inject({ url: '/v1/dashboard' });
  expect(res.statusCode).toBe(200);
  return res.json<DashboardResponse>();
}

describe('dashboard', () => {
  it('/ is the page, its script and stylesheet are served by this replica, and nothing else leaves the assets folder', async () => {
    const page = await file.h.app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('/dashboard/dashboard.js');
    // Nothing from a CDN: every script and stylesheet is a local path.
    expect(page.body).not.toMatch(/(src|href)="https?:/);
    for (const [url, type] of [['/dashboard/dashboard.js', /javascript/], ['/dashboard/dashboard.css', /text\/css/]] as const) {
      const asset = await file.h.app.inject({ url });
      expect(asset.statusCode, url).toBe(200);
      expect(asset.headers['content-type'], url).toMatch(type);
    }
    for (const url of ['/dashboard/nothing.js', '/dashboard/../package.json', '/dashboard/%2e%2e/package.json', '/dashboard/..%2fpackage.json', '/dashboard/']) {
      const odd = await file.h.app.inject({ url });
      expect(odd.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(odd.statusCode, url).toBeLessThan(500);
      expect(odd.json<{ code: string }>().code, url).toMatch(/^RECO_ERR_/);
    }
  });

  it('GET /v1/dashboard is in the OpenAPI document; the page and its assets are not', async () => {
    const doc = (await file.h.app.inject({ url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toContain('/v1/dashboard');
    expect(Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/dashboard'))).toEqual([]);
  });

  it('shows each applied snapshot’s prequential figures as a point, a rollback as another, with the counters', async () => {
    const applier = await harnessApplier(file.h, file.backbone);
    const withFigures = (hr10: number, ndcg10: number) => (s: { meta: { figures: Record<string, number | null> } }) => void (s.meta.figures = { ...s.meta.figures, prequentialHr10: hr10, prequentialNdcg10: ndcg10 });
    expect(applier.apply(await makeSnapshot(file.backbone, { version: 1, newestEventTs: Date.now() - 2000, mutate: withFigures(0.2, 0.1) }))).toMatchObject({ applied: true });
    let ladder = (await dashboard()).variants.find((v) => v.variant === 'ladder');
    expect(ladder).toMatchObject({ method: 'ladder', version: 1, backboneId: file.backbone.checkpoint.backboneId, previousVersion: null });
    expect(ladder?.series.at(-1)).toMatchObject({ version: 1, hr10: 0.2, ndcg10: 0.1 });
    expect(ladder?.freshnessMs).toBeGreaterThanOrEqual(2000);

    expect(applier.apply(await makeSnapshot(file.backbone, { version: 2, mutate: withFigures(0.3, 0.15) }))).toMatchObject({ applied: true });
    // The series samples the registry (each second, and on every GET): a version must be seen
    // answering once to get its point. Updaters publish seconds apart, so none is missed in practice.
    expect((await dashboard()).variants.find((v) => v.variant === 'ladder')?.series.at(-1)).toMatchObject({ version: 2, hr10: 0.3 });
    // The rollback record (v3) carries v1's parameters and figures again.
    const rollback = await file.h.app.inject({ method: 'POST', url: '/v1/models/ladder/rollback', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(rollback.statusCode).toBe(200);
    ladder = (await dashboard()).variants.find((v) => v.variant === 'ladder');
    expect(ladder?.series.map((p) => [p.version, p.hr10])).toEqual([[1, 0.2], [2, 0.3], [3, 0.2]]);
    const times = ladder!.series.map((p) => p.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(ladder).toMatchObject({ version: 3, previousVersion: null, snapshotsApplied: 3, snapshotsRefused: 0 });
  });

  it("counts API requests per second, not the dashboard's own polling", async () => {
    // Let one sampling tick pass with nothing but the dashboard polled, then make API traffic.
    await until(async () => ((await dashboard()).traffic.series.length > 0 ? true : undefined), 5000, 'a first traffic point');
    for (let i = 0; i < 20; i++) await dashboard();
    const quiet = (await dashboard()).traffic.series.at(-1);
    await until(async () => ((await dashboard()).traffic.series.at(-1)?.at !== quiet?.at ? true : undefined), 5000, 'the next tick');
    for (let i = 0; i < 30; i++) expect((await file.h.app.inject({ url: `/v1/recommendations?userId=u${i}&k=3` })).statusCode).toBe(200);
    const before = (await dashboard()).traffic.series.at(-1)?.at;
    const busy = await until(async () => {
      const last = (await dashboard()).traffic.series.at(-1);
      return last !== undefined && last.at !== before ? last : undefined;
    }, 5000, 'a tick after the requests');
    expect(busy.requestsPerSecond).toBeGreaterThan(10);
    expect(busy.p99Ms).not.toBeNull();
    // The series of the tick where only the dashboard was polled shows (almost) nothing.
    const series = (await dashboard()).traffic.series;
    expect(Math.min(...series.map((p) => p.requestsPerSecond))).toBeLessThan(1);
  });

  it("offers the explorer this replica's most recently active users, most recent first", async () => {
    const { history } = file.h;
    for (const [user, item] of [
      ['picked-a', 'item-1'],
      ['picked-b', 'item-2'],
      ['picked-a', 'item-3'],
    ] as const)
      history.append(user, item);
    const users = (await dashboard()).users;
    expect(users.slice(0, 2)).toEqual(['picked-a', 'picked-b']);
    expect(users.length).toBeLessThanOrEqual(20);
  });
});
