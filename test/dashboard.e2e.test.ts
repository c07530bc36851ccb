// The callbacks given to page.evaluate/$eval run in the browser: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createE2eContext, liveVersion, until, type E2eContext } from './harness/e2e-context.js';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';

/** Debian's chromium package (.ci/run installs it where apt-get can); CHROMIUM_PATH points elsewhere. */
function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH !== undefined) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const executablePath = chromiumPath();
if (executablePath === undefined) console.warn('dashboard browser test skipped: no chromium on PATH (apt-get install chromium, or set CHROMIUM_PATH)');

const SCREENSHOT = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));
const VARIANTS = ['ladder', 'bitfit'];
const ADMIN_TOKEN = 'dashboard-test-token';

describe.skipIf(executablePath === undefined)('dashboard in a real browser', () => {
  let ctx: E2eContext;
  let updater: ServiceProcess;
  let serving: ServiceProcess;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ctx = await createE2eContext('dashboard');
    const env = { ...ctx.env, RECO_VARIANTS: VARIANTS.join(','), RECO_PUBLISH_INTERVAL_MS: '1000', RECO_ADMIN_TOKEN: ADMIN_TOKEN };
    [updater, serving, browser] = await Promise.all([
      startService('updater', env),
      startService('serving', env),
      // --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
      puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--window-size=1280,1000'] }),
    ]);
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    page.on('requestfailed', (request) => consoleErrors.push(`request failed: ${request.url()}`));

    // Clicks from the synthetic world, so both variants train and publish figures to chart.
    const stream = ctx.fixture.world.stream.filter((e) => e.type === 'click');
    let sent = 0;
    const sendClicks = async (count: number): Promise<void> => {
      const now = Date.now();
      const events = Array.from({ length: count }, (_, j) => stream[(sent + j) % stream.length]!).map((e, j) => ({ userId: e.userId, itemId: e.itemId, type: 'click', ts: now + j }));
      sent += count;
      const response = await fetch(`${serving.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
      expect(response.status).toBe(202);
    };
    for (let i = 0; i < 6; i++) await sendClicks(100);
    // Titles and categories through the items API (the synthetic world has none of its own), so
    // the explorer shows what a catalogue with metadata looks like; they reach serving through reco.items.
    const { world, checkpoint } = ctx.fixture;
    const itemIds = checkpoint.itemIds.filter((id) => world.itemIds.includes(id));
    for (let i = 0; i < itemIds.length; i += 25) {
      await Promise.all(itemIds.slice(i, i + 25).map(async (id) => {
        const body = { title: `Item ${id.replace(/^i/, '#')}`, categories: [`topic ${world.topicOfItem(id)}`] };
        const put = await fetch(`${serving.url}/v1/items/${encodeURIComponent(id)}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify(body) });
        expect(put.status, `PUT /v1/items/${id}`).toBeLessThan(300);
        await put.body?.cancel();
      }));
    }
    const lastItem = itemIds.at(-1)!;
    await until('the items written to be served', async () => {
      const item = (await (await fetch(`${serving.url}/v1/items/${encodeURIComponent(lastItem)}`)).json()) as { title?: string };
      return item.title === undefined ? undefined : true;
    }, 10_000, 100);
    // Three versions each, so the A/B charts hold lines (and the screenshot shows some learning).
    // Clicks keep coming until then, as traffic would: a variant that trains the first 600 in less
    // than a couple of publish intervals would otherwise stop at one or two versions.
    for (const variant of VARIANTS) {
      await until(`three snapshots of ${variant} live in serving`, async () => {
        if ((await liveVersion(serving.url, variant)) >= 3) return true;
        await sendClicks(50);
        return undefined;
      }, 60_000, 500);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([updater?.stop(), serving?.stop()]);
    await ctx?.close();
  });

  it('GET /v1/dashboard answers every live variant with its published figures', async () => {
    const body = (await (await fetch(`${serving.url}/v1/dashboard`)).json()) as { variants: Array<{ variant: string; version: number; snapshotsApplied: number; series: Array<{ version: number; hr10: number | null }> }> };
    for (const variant of VARIANTS) {
      const v = body.variants.find((x) => x.variant === variant);
      expect(v, variant).toBeDefined();
      expect(v!.version).toBeGreaterThanOrEqual(1);
      expect(v!.snapshotsApplied).toBeGreaterThanOrEqual(1);
      expect(v!.series.length, `points of ${variant}`).toBeGreaterThanOrEqual(2);
      expect(v!.series.at(-1)?.version).toBe(v!.version);
      expect(v!.series.at(-1)?.hr10).toBeTypeOf('number');
    }
  });

  it('loads with no console error, shows both variants and their charts, and a click in the explorer changes the list', async () => {
    const response = await page.goto(`${serving.url}/`, { waitUntil: 'networkidle0' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/text\/html/);

    await page.waitForFunction((names: string[]) => names.every((n) => document.querySelector(`#variants tr[data-variant="${n}"]`) !== null), { timeout: 10_000 }, VARIANTS);
    const rows = await page.$$eval('#variants tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));
    for (const variant of VARIANTS) {
      const row = rows.find((r) => r[0] === variant);
      expect(row?.[1], `method of ${variant}`).toBe(variant);
      expect(row?.[2], `version of ${variant}`).toMatch(/^v[1-9]\d*$/);
    }
    // Each variant has drawn figures (points at least) in both quality charts.
    for (const chart of ['#chart-hr10', '#chart-ndcg10']) {
      await page.waitForFunction(
        (selector: string, names: string[]) => names.every((n) => document.querySelector(`${selector} circle[data-series="${n}"]`) !== null),
        { timeout: 10_000 },
        chart,
        VARIANTS,
      );
    }
    // The traffic charts have a line once the sampler has seen two ticks.
    await page.waitForFunction(() => document.querySelector('#chart-rps path') !== null && document.querySelector('#chart-eps path') !== null, { timeout: 10_000 });

    // Explorer: a brand-new user gets full lists from every variant (the popularity fallback).
    const userId = `dash-${Date.now()}`;
    await page.$eval('#user', (input, value) => ((input as HTMLInputElement).value = value), userId);
    await page.click('#explore button[type=submit]');
    const listOf = (variant: string): Promise<string[]> => page.$$eval(`.list[data-variant="${variant}"] li`, (lis) => lis.map((li) => li.getAttribute('data-item') ?? ''));
    await page.waitForFunction((names: string[]) => names.every((n) => document.querySelectorAll(`.list[data-variant="${n}"] li`).length === 10), { timeout: 10_000 }, VARIANTS);
    const before = await listOf('ladder');
    // Titles and scores as the API answered them, side by side per variant.
    const firstRow = await page.$eval('.list[data-variant="ladder"] li', (li) => li.textContent ?? '');
    expect(firstRow).toMatch(/^\d+\.\d{3}Item #\S+ i\S+topic \d+$/);
    const clicked = before[0]!;

    const clickedAt = Date.now();
    await page.click(`.list[data-variant="ladder"] li[data-item="${clicked}"]`);
    await page.waitForFunction(
      (item: string, was: string) => {
        const lis = [...document.querySelectorAll('.list[data-variant="ladder"] li')].map((li) => li.getAttribute('data-item'));
        return lis.length > 0 && lis.join() !== was && !lis.includes(item);
      },
      { timeout: 5_000, polling: 50 },
      clicked,
      before.join(),
    );
    const changedAfterMs = Date.now() - clickedAt;
    console.info(`explorer click -> ladder list changed on the page: ${changedAfterMs} ms`);
    expect(changedAfterMs).toBeLessThan(2_000);
    // The page shows what serving now holds for that user: the click is in their history.
    const answer = (await (await fetch(`${serving.url}/v1/recommendations?userId=${userId}&k=10&variant=ladder`)).json()) as { historyLength: number; items: { itemId: string }[] };
    expect(answer.historyLength).toBe(1);
    expect(answer.items.map((i) => i.itemId)).not.toContain(clicked);
    // The user who just clicked is now the first of the explorer's picks.
    await page.waitForFunction((id: string) => document.querySelector('#users option')?.getAttribute('value') === id, { timeout: 5_000 }, userId);

    mkdirSync(fileURLToPath(new URL('../docs/', import.meta.url)), { recursive: true });
    // Past the lists' one-second "changed" highlight, so the screenshot shows the page at rest.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  it('rolls a variant back from the page with the admin token, and refuses without it', async () => {
    await until('a second ladder version', async () => ((await liveVersion(serving.url, 'ladder')) >= 2 ? true : undefined), 30_000, 200);
    await page.waitForSelector('#variants tr[data-variant="ladder"] button', { timeout: 5_000 });
    const live = await liveVersion(serving.url, 'ladder');
    // The table is redrawn every second: finding and clicking the button in one page task cannot
    // land on a row that was just replaced.
    const clickRollback = (): Promise<void> => page.$eval('#variants tr[data-variant="ladder"] button', (button) => (button).click());

    await page.$eval('#token', (input) => ((input as HTMLInputElement).value = 'wrong-token'));
    await clickRollback();
    await page.waitForFunction(() => document.querySelector('#rollback-result')?.textContent?.includes('RECO_ERR') === true, { timeout: 5_000 });
    expect(await liveVersion(serving.url, 'ladder')).toBeGreaterThanOrEqual(live);

    await page.$eval('#token', (input, token) => ((input as HTMLInputElement).value = token), ADMIN_TOKEN);
    await page.waitForSelector('#variants tr[data-variant="ladder"] button', { timeout: 5_000 });
    await clickRollback();
    const text = await page.waitForFunction(() => {
      const t = document.querySelector('#rollback-result')?.textContent ?? '';
      return t.includes('rolled back') ? t : false;
    }, { timeout: 5_000 });
    // The restored version's parameters answer again under the rollback record's own, newer version.
    const [, from, to, now] = /rolled back from v(\d+) to v(\d+) \(now v(\d+)/.exec(String(await text.jsonValue())) ?? [];
    expect(Number(to)).toBeLessThan(Number(from));
    expect(Number(now)).toBeGreaterThan(Number(from));
    // The refused attempt is logged by Chromium as a failed resource (403): the only error expected.
    expect(consoleErrors).toEqual([expect.stringMatching(/status of 403/)]);
  });
});
