import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';
import { watchSnapshots, type SnapshotWatch } from '../scripts/lib/snapshot-watch.js';
import { createE2eContext, liveModel, liveVersion, OPEN_GATE_ENV, until, type E2eContext } from './harness/e2e-context.js';
import { metricSum } from './harness/metrics.js';
import { offsetSum } from './harness/snapshots.js';

// Three serving replicas (separate processes, one port each) and one updater on one test's topics.
// Each replica reads reco.adapters from the beginning in a group of its own (snapshot-consumer.ts)
// and keeps its own histories and co-visit counts from reco.events, also in a group of its own
// (history-consumer.ts): nothing is shared between replicas but the topics.

interface Answer {
  userId: string;
  variant: string;
  version: number;
  backboneId: string;
  historyLength: number;
  fallback?: string;
  items: { itemId: string; score: number }[];
}

interface LoadResult {
  replica: number;
  status: number;
  version?: number;
  error?: string;
}

const REPLICAS = 3;
const PUBLISH_INTERVAL_MS = 1000;
/** What "converge within a few seconds" means here: publish to the last replica's swap. */
const CONVERGENCE_MS = 3000;

let ctx: E2eContext;
let watch: SnapshotWatch | undefined;
let updater: ServiceProcess | undefined;
const replicas: ServiceProcess[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ctx = await createE2eContext('replicas');
  // Before the updater: the watch reads from the beginning anyway, but this way it misses nothing.
  watch = await watchSnapshots(ctx.kafka, ctx.topics.adapters, ctx.trust);
  const env = { ...ctx.env, ...OPEN_GATE_ENV, RECO_VARIANTS: 'ladder', RECO_DEFAULT_VARIANT: 'ladder', RECO_PUBLISH_INTERVAL_MS: String(PUBLISH_INTERVAL_MS) };
  const started = await Promise.allSettled([startService('updater', env), ...Array.from({ length: REPLICAS }, () => startService('serving', env))]);
  for (const result of started) {
    if (result.status !== 'fulfilled') continue;
    if (result.value.name === 'updater') updater = result.value;
    else replicas.push(result.value);
  }
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}, 180_000);

afterAll(async () => {
  await Promise.all([updater?.stop(), ...replicas.map((r) => r.stop())]);
  await watch?.stop();
  await ctx?.close();
});

function outputTails(): string {
  return [updater, ...replicas].map((s) => (s ? `--- ${s.name} ${s.url}\n${s.output().slice(-1500)}` : '')).join('\n');
}

async function recommend(url: string, userId: string, history?: string[]): Promise<Answer> {
  const response =
    history === undefined
      ? await fetch(`${url}/v1/recommendations?userId=${encodeURIComponent(userId)}&k=10`)
      : await fetch(`${url}/v1/recommendations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, history, k: 10 }) });
  expect(response.status).toBe(200);
  return (await response.json()) as Answer;
}

describe('three serving replicas and one updater', () => {
  it('every replica applies every published version within seconds, answers the same, and drops no request while clicks stream and snapshots swap', async () => {
    const { world } = ctx.fixture;
    const urls = replicas.map((r) => r.url);
    const clicks = world.stream.filter((e) => e.type === 'click').slice(0, 1200);
    const users = [...new Set(clicks.map((e) => e.userId))];
    expect(users.length).toBeGreaterThan(20);

    // Every 50 ms, the version each replica answers with and when it swapped it in: the apply
    // times of (nearly) every version, per replica, without relying on log lines.
    const applied = urls.map(() => new Map<number, number>());
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await Promise.all(
          urls.map(async (url, r) => {
            const model = await liveModel(url, 'ladder').catch(() => undefined);
            if (model && model.version > 0 && !applied[r]?.has(model.version)) applied[r]?.set(model.version, model.appliedAt);
          }),
        );
        await sleep(50);
      }
    })();

    // The load: GETs spread round-robin over the three replicas for users whose histories the
    // replicas build from the clicks below (the first answers are popularity fallbacks).
    const load: LoadResult[] = [];
    let loading = true;
    const loadWorker = async (w: number): Promise<void> => {
      for (let i = 0; loading; i += 1) {
        const replica = (w + i) % REPLICAS;
        const userId = users[(w * 7 + i) % users.length] ?? 'u0';
        try {
          const response = await fetch(`${urls[replica]}/v1/recommendations?userId=${encodeURIComponent(userId)}&k=10`, { signal: AbortSignal.timeout(5000) });
          const body = (await response.json()) as Partial<Answer>;
          load.push({ replica, status: response.status, ...(body.version === undefined ? {} : { version: body.version }) });
        } catch (error) {
          load.push({ replica, status: 0, error: String(error) });
        }
        await sleep(10); // leave the updater CPU to train on: two cores run six processes here
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => loadWorker(w));

    // The clicks, through one replica's POST /v1/events, as a stream of small batches.
    const streamStarted = Date.now();
    const BATCH = 40;
    for (let i = 0; i < clicks.length; i += BATCH) {
      const now = Date.now();
      const events = clicks.slice(i, i + BATCH).map((e, j) => ({ userId: e.userId, itemId: e.itemId, type: 'click', ts: now + j }));
      const response = await fetch(`${urls[0]}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
      expect(response.status).toBe(202);
      await sleep(200);
    }
    const streamMs = Date.now() - streamStarted;

    // Quiescence: the updater has published a snapshot trained up to the last click (it publishes
    // nothing more without new steps), and every replica answers with it.
    const seen = watch?.seen ?? [];
    const last = await until('a snapshot trained on every click', () => seen.find((s) => offsetSum(s.meta.offsets) === clicks.length), 30_000, 50).catch((error: unknown) => {
      throw new Error(`${String(error)}; published: ${JSON.stringify(seen.map((s) => [s.meta.version, offsetSum(s.meta.offsets)]))}\n${outputTails()}`);
    });
    const lastVersion = last.meta.version;
    await until('every replica on the last version', async () => ((await Promise.all(urls.map((u) => liveVersion(u, 'ladder')))).every((v) => v === lastVersion) ? true : undefined), 15_000, 25).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${outputTails()}`);
    });
    const lastConverged = Date.now();
    loading = false;
    await Promise.all(workers);
    polling = false;
    await poller;

    // 1. Every published version, applied by every replica, none refused, all within seconds.
    const published = seen.map((s) => s.meta.version);
    expect(watch?.undecodable).toEqual([]);
    expect(published.length).toBeGreaterThanOrEqual(3);
    expect(published).toEqual([...published].sort((a, b) => a - b));
    expect(new Set(published).size).toBe(published.length);
    expect(published.at(-1)).toBe(lastVersion);
    for (const url of urls) {
      expect(await metricSum(url, 'reco_snapshots_applied_total', { variant: 'ladder' }), `${url} applied`).toBe(published.length);
      expect(await metricSum(url, 'reco_snapshots_refused_total'), `${url} refused`).toBe(0);
      expect(await metricSum(url, 'reco_live_version', { variant: 'ladder' }), `${url} live version`).toBe(lastVersion);
    }
    const lags: number[] = [];
    const spreads: number[] = [];
    for (const { meta } of seen) {
      const times = applied.map((m) => m.get(meta.version));
      for (const t of times) if (t !== undefined) lags.push(t - meta.publishedAt);
      const all = times.filter((t): t is number => t !== undefined);
      if (all.length === REPLICAS) spreads.push(Math.max(...all) - Math.min(...all));
    }
    const timed = applied.map((m) => m.size);
    console.info(
      `${clicks.length} clicks streamed in ${streamMs} ms; ${published.length} versions published (v${published[0]}..v${lastVersion}); ` +
        `apply times seen per replica: ${timed.join('/')}; publish -> replica swap: max ${Math.max(...lags)} ms, median ${lags.sort((a, b) => a - b)[Math.floor(lags.length / 2)]} ms; ` +
        `first to last replica per version: max ${Math.max(...spreads)} ms over ${spreads.length} versions; last publish -> all three seen on it: ${lastConverged - last.meta.publishedAt} ms`,
    );
    // The poller sees a version unless the next one replaces it within ~50 ms; most must be timed.
    for (const n of timed) expect(n).toBeGreaterThanOrEqual(Math.ceil(published.length / 2));
    expect(Math.max(...lags)).toBeLessThan(CONVERGENCE_MS);

    // 3. The load during the stream and the swaps: every request answered 2xx, on every replica,
    // across several versions.
    const failures = load.filter((l) => l.status < 200 || l.status > 299);
    expect(failures.slice(0, 5)).toEqual([]);
    for (let r = 0; r < REPLICAS; r++) {
      const mine = load.filter((l) => l.replica === r);
      expect(mine.length, `requests to replica ${r}`).toBeGreaterThan(50);
      expect(new Set(mine.map((l) => l.version)).size, `versions replica ${r} answered with`).toBeGreaterThanOrEqual(3);
    }
    console.info(`load: ${load.length} requests over ${REPLICAS} replicas, ${failures.length} not 2xx, answered by ${new Set(load.map((l) => l.version)).size} distinct versions`);

    // 2. On the same version and the same clicks, the three answer alike: the same items in the
    // same order, the same version, the same history. First every replica has read every click
    // into its histories and co-visit counts. (Known exception, not hidden here: ItemCoVisits keeps
    // a history's MEMORY_SLOTS best co-visited items with ties broken by its own first-seen index,
    // which follows the order a replica happened to read the six event partitions in; a tie at the
    // cut can give two replicas different memories, hence now and then different lists. A failure
    // here naming an item list is worth checking against that first.)
    await until('every replica has read every click', async () => ((await Promise.all(urls.map((u) => metricSum(u, 'reco_history_events_consumed_total')))).every((n) => n === clicks.length) ? true : undefined), 10_000, 50);
    const probes: { userId: string; history?: string[] }[] = [
      ...users.slice(0, 24).map((userId) => ({ userId })),
      ...users.slice(0, 4).map((userId) => ({ userId: `${userId}-explicit`, history: world.pretrainLog.filter((e) => e.userId === userId).slice(-8).map((e) => e.itemId) })),
    ];
    let maxScoreDiff = 0;
    for (const probe of probes) {
      // One replica at a time: no concurrent request shares a backbone micro-batch with it.
      const answers: Answer[] = [];
      for (const url of urls) answers.push(await recommend(url, probe.userId, probe.history));
      const [first, ...others] = answers as [Answer, ...Answer[]];
      expect(first.version).toBe(lastVersion);
      expect(first.fallback, `${probe.userId} has a history`).toBeUndefined();
      expect(first.items).toHaveLength(10);
      for (const other of others) {
        expect({ ...other, items: other.items.map((i) => i.itemId) }, probe.userId).toEqual({ ...first, items: first.items.map((i) => i.itemId) });
        other.items.forEach((item, n) => (maxScoreDiff = Math.max(maxScoreDiff, Math.abs(item.score - (first.items[n]?.score ?? Number.NaN)))));
      }
    }
    console.info(`${probes.length} users asked on all three replicas at v${lastVersion}: identical item lists; largest score difference ${maxScoreDiff}`);
    expect(maxScoreDiff).toBeLessThan(1e-4);
  }, 90_000);
});
