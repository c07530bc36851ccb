import { leaseGroup } from '@reco/updater';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';
import { watchSnapshots, type SeenSnapshot, type SnapshotWatch } from '../scripts/lib/snapshot-watch.js';
import { createE2eContext, liveVersion, OPEN_GATE_ENV, produceClicks, until, type E2eContext } from './harness/e2e-context.js';
import { metricLabelValues, metricSum } from './harness/metrics.js';
import { offsetSum } from './harness/snapshots.js';
import { logLines, updaterActiveGauge, updaterRole } from './harness/updater-role.js';

// Variants spread over several updaters: two updater processes with disjoint variant sets on one
// test's topics, and two serving replicas that serve both sets. Each variant set has a lease group
// of its own (lease.ts), so both updaters are active at once, each publishing only its own
// variants, and stopping one leaves the other's lease and publishing alone. (Variant sets that
// overlap without being equal are a documented limit, not covered here.)
// A ladder variant and a BitFit one: two methods, the second one backpropagating through the small
// backbone, still quick enough on it for two cores shared by five processes.

interface VariantSet {
  /** The updater's RECO_VARIANTS. */
  spec: string;
  variant: string;
  method: string;
}

const SETS: readonly VariantSet[] = [
  { spec: 'ladder', variant: 'ladder', method: 'ladder' },
  { spec: 'b:bitfit', variant: 'b', method: 'bitfit' },
];
const REPLICAS = 2;
const FIRST_CLICKS = 400;
const MORE_CLICKS = 300;

interface Answer {
  variant: string;
  method: string;
  version: number;
}

let ctx: E2eContext;
let watch: SnapshotWatch;
const updaters: ServiceProcess[] = [];
const replicas: ServiceProcess[] = [];
const unexpectedExits: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ctx = await createE2eContext('variant-spread');
  // Before any service: the watch reads from the beginning anyway, but this way it misses nothing.
  watch = await watchSnapshots(ctx.kafka, ctx.topics.adapters, ctx.trust);
  const common = { ...ctx.env, ...OPEN_GATE_ENV, RECO_PUBLISH_INTERVAL_MS: '1000' };
  // Info on the updaters: the lease lines are what this test reads.
  const updaterEnv = (set: VariantSet) => ({ ...common, LOG_LEVEL: 'info', RECO_LOG_PRETTY: '0', RECO_VARIANTS: set.spec, RECO_SESSION_TIMEOUT_MS: '6000', RECO_LEASE_SESSION_TIMEOUT_MS: '6000' });
  const servingEnv = { ...common, RECO_VARIANTS: SETS.map((s) => s.spec).join(','), RECO_DEFAULT_VARIANT: 'ladder' };
  const onExit = (what: string) => (code: number | null, signal: NodeJS.Signals | null) => unexpectedExits.push(`${what} exited on its own: code ${code}, signal ${signal}`);
  const started = await Promise.allSettled([
    ...SETS.map((set) => startService('updater', updaterEnv(set), { onUnexpectedExit: onExit(`updater ${set.spec}`) })),
    ...Array.from({ length: REPLICAS }, (_, r) => startService('serving', servingEnv, { onUnexpectedExit: onExit(`serving ${r}`) })),
  ]);
  // In start order: updaters[i] trains SETS[i].
  for (const result of started) {
    if (result.status !== 'fulfilled') continue;
    (result.value.name === 'updater' ? updaters : replicas).push(result.value);
  }
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}, 180_000);

afterAll(async () => {
  await Promise.all([...updaters, ...replicas].map((s) => s.stop()));
  await watch?.stop();
  await ctx?.close();
});

const seenOf = (variant: string): SeenSnapshot[] => watch.seen.filter((s) => s.meta.variant === variant);
const latestOf = (variant: string): SeenSnapshot | undefined => seenOf(variant).at(-1);

function tails(): string {
  const named = [...updaters.map((u, i) => [`updater ${SETS[i]?.spec}`, u] as const), ...replicas.map((r, i) => [`serving ${i}`, r] as const)];
  return [...unexpectedExits, ...named.map(([label, s]) => `--- ${label} ${s.url}\n${s.output().slice(-2000)}`)].join('\n');
}

/** Clicks [from, to) in chunks of 20 every 100 ms: a stream, so that versions are published while it runs. */
async function streamClicks(from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += 20) {
    await produceClicks(ctx, at, Math.min(to, at + 20));
    await sleep(100);
  }
}

/** Waits for a snapshot of `variant` trained on exactly the first `total` clicks. */
async function trainedOn(variant: string, total: number): Promise<SeenSnapshot> {
  const last = await until(`a ${variant} snapshot trained on all ${total} clicks`, () => seenOf(variant).find((s) => offsetSum(s.meta.offsets) >= total), 120_000, 100).catch((error: unknown) => {
    throw new Error(`${String(error)}; ${variant} published: ${JSON.stringify(seenOf(variant).map((s) => [s.meta.version, offsetSum(s.meta.offsets)]))}\n${tails()}`);
  });
  expect(offsetSum(last.meta.offsets)).toBe(total);
  expect(last.meta.examplesTrained).toBe(total);
  return last;
}

/** Every replica has applied every snapshot of `variant` the topic holds, none refused, and serves the newest. */
async function everyReplicaApplied(variant: string): Promise<void> {
  const published = seenOf(variant).length;
  const latest = latestOf(variant)?.meta.version;
  const state = (): Promise<Array<{ applied: number; live: number }>> =>
    Promise.all(replicas.map(async (r) => ({ applied: await metricSum(r.url, 'reco_snapshots_applied_total', { variant }), live: await liveVersion(r.url, variant) })));
  await until(`every replica on ${variant} v${latest}, ${published} snapshots applied`, async () => ((await state()).every((s) => s.applied === published && s.live === latest) ? true : undefined), 30_000, 100).catch(async (error: unknown) => {
    throw new Error(`${String(error)}; replicas: ${JSON.stringify(await state())}\n${tails()}`);
  });
  for (const r of replicas) {
    expect(await metricSum(r.url, 'reco_snapshots_refused_total'), `${r.url} refused`).toBe(0);
    expect(await metricSum(r.url, 'reco_live_version', { variant }), `${r.url} reco_live_version ${variant}`).toBe(latest);
  }
}

/** A request naming `variant` on every replica is answered by that variant at `version`. */
async function everyReplicaAnswers(variant: string, method: string, version: number): Promise<void> {
  const users = [...new Set(ctx.fixture.world.stream.filter((e) => e.type === 'click').map((e) => e.userId))].slice(0, 3);
  for (const r of replicas) {
    for (const userId of users) {
      const response = await fetch(`${r.url}/v1/recommendations?userId=${encodeURIComponent(userId)}&variant=${variant}&k=10`);
      expect(response.status).toBe(200);
      const answer = (await response.json()) as Answer;
      expect({ variant: answer.variant, method: answer.method, version: answer.version }, `${r.url} ${userId}`).toEqual({ variant, method, version });
    }
  }
}

describe('variants spread over two updaters with disjoint variant sets', () => {
  it('both updaters are active at once, each holding its own lease and publishing only its own variant; every replica applies every snapshot of both and answers each from its latest version', async () => {
    expect(updaters).toHaveLength(SETS.length);
    expect(replicas).toHaveLength(REPLICAS);
    for (const [i, set] of SETS.entries()) {
      const updater = updaters[i] as ServiceProcess;
      expect(await updaterRole(updater.url), `${set.spec} role\n${tails()}`).toBe('active');
      expect(await updaterActiveGauge(updater.url), `${set.spec} reco_updater_active`).toBe(1);
      const acquired = logLines(updater.output(), /^lease acquired: active/);
      expect(acquired, `${set.spec} lease lines`).toHaveLength(1);
      expect(acquired[0]?.group).toBe(leaseGroup(ctx.topics.adapters.name, [set.variant]));
      expect(logLines(updater.output(), /^standby: waiting/), `${set.spec} waited as standby`).toHaveLength(0);
    }

    const streamStarted = Date.now();
    await streamClicks(0, FIRST_CLICKS);
    const lasts = new Map<string, SeenSnapshot>();
    for (const set of SETS) lasts.set(set.variant, await trainedOn(set.variant, FIRST_CLICKS));
    const trainedMs = Date.now() - streamStarted;

    // The topic holds the two variants only, each with its own method and its own rising versions.
    expect(watch.undecodable).toEqual([]);
    expect(new Set(watch.seen.map((s) => s.meta.variant))).toEqual(new Set(SETS.map((s) => s.variant)));
    for (const set of SETS) {
      const mine = seenOf(set.variant);
      expect(new Set(mine.map((s) => s.meta.method)), set.variant).toEqual(new Set([set.method]));
      const versions = mine.map((s) => s.meta.version);
      for (let v = 1; v < versions.length; v += 1) expect(versions[v], `${set.variant} versions in log order: ${versions.join(',')}`).toBeGreaterThan(versions[v - 1] ?? 0);
      expect(versions.at(-1)).toBe(lasts.get(set.variant)?.meta.version);
    }

    // Each updater counts as published exactly the snapshots of its own variant on the topic, and
    // none of the other's: nothing on the topic came from the other process.
    for (const [i, set] of SETS.entries()) {
      const url = (updaters[i] as ServiceProcess).url;
      await until(`${set.spec}'s published count to match the topic`, async () => ((await metricSum(url, 'reco_snapshots_published_total', { variant: set.variant })) === seenOf(set.variant).length ? true : undefined), 10_000, 100);
      expect(await metricLabelValues(url, 'reco_snapshots_published_total', 'variant'), `${set.spec} published variants`).toEqual([set.variant]);
      expect(logLines((updaters[i] as ServiceProcess).output(), /^snapshot published/).every((line) => line.variant === set.variant), `${set.spec} publish lines`).toBe(true);
    }

    for (const set of SETS) await everyReplicaApplied(set.variant);
    for (const set of SETS) await everyReplicaAnswers(set.variant, set.method, lasts.get(set.variant)?.meta.version ?? -1);
    // Still both active after the stream: neither took the other's place or stepped down.
    expect(await Promise.all(updaters.map((u) => updaterActiveGauge(u.url)))).toEqual(SETS.map(() => 1));
    expect(unexpectedExits).toEqual([]);
    console.info(
      `${FIRST_CLICKS} clicks trained by both updaters ${trainedMs} ms after the stream started; ` +
        SETS.map((s) => `${s.variant} (${s.method}): ${seenOf(s.variant).length} snapshots, v${lasts.get(s.variant)?.meta.version}`).join('; ') +
        `; applied by all ${REPLICAS} replicas`,
    );
  }, 180_000);

  it('stopping one updater (SIGTERM) does not stop the other: it stays active and publishes on, and every replica applies its new snapshots', async () => {
    const [stopped, kept] = [updaters[0] as ServiceProcess, updaters[1] as ServiceProcess];
    const [gone, left] = [SETS[0] as VariantSet, SETS[1] as VariantSet];
    const keptBefore = latestOf(left.variant);
    const stopStarted = Date.now();
    expect(await stopped.stop(), `${gone.spec} exit code\n${tails()}`).toBe(0);
    const stopMs = Date.now() - stopStarted;
    const goneCount = seenOf(gone.variant).length;
    const goneLast = latestOf(gone.variant);

    expect(await updaterRole(kept.url)).toBe('active');
    await streamClicks(FIRST_CLICKS, FIRST_CLICKS + MORE_CLICKS);
    const last = await trainedOn(left.variant, FIRST_CLICKS + MORE_CLICKS);
    expect(last.meta.version).toBeGreaterThan(keptBefore?.meta.version ?? 0);
    expect(seenOf(left.variant).filter((s) => s.receivedAt > stopStarted).length, `${left.variant} snapshots after the stop`).toBeGreaterThanOrEqual(1);

    // The kept updater never lost or re-took its lease; the stopped one's variant stays where it was.
    expect(await updaterRole(kept.url)).toBe('active');
    expect(await updaterActiveGauge(kept.url)).toBe(1);
    expect(logLines(kept.output(), /^lease acquired/)).toHaveLength(1);
    expect(logLines(kept.output(), /^stepping down/)).toHaveLength(0);
    expect(seenOf(gone.variant)).toHaveLength(goneCount);
    await until(`${left.spec}'s published count to match the topic`, async () => ((await metricSum(kept.url, 'reco_snapshots_published_total', { variant: left.variant })) === seenOf(left.variant).length ? true : undefined), 10_000, 100);

    await everyReplicaApplied(left.variant);
    await everyReplicaApplied(gone.variant);
    await everyReplicaAnswers(left.variant, left.method, last.meta.version);
    await everyReplicaAnswers(gone.variant, gone.method, goneLast?.meta.version ?? -1);
    expect(unexpectedExits).toEqual([]);
    console.info(
      `${gone.spec} updater stopped in ${stopMs} ms at v${goneLast?.meta.version}; ${left.variant} went on from v${keptBefore?.meta.version} to v${last.meta.version}, trained on all ${FIRST_CLICKS + MORE_CLICKS} clicks`,
    );
  }, 180_000);
});
