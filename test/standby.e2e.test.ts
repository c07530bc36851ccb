import { silentLogger } from '@reco/stream';
import { SnapshotPublisher } from '@reco/updater';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';
import { watchSnapshots, type SeenSnapshot, type SnapshotWatch } from '../scripts/lib/snapshot-watch.js';
import { createE2eContext, OPEN_GATE_ENV, produceClicks, until, type E2eContext } from './harness/e2e-context.js';
import { offsetSum } from './harness/snapshots.js';
import { logLines, updaterActiveGauge, updaterRole } from './harness/updater-role.js';

// Updaters for the same variant as separate processes on one test's topics: one holds the lease
// and publishes, the others wait as standby. Every check reads the adapters topic as serving does
// (committed records only, verified with the test's key) through a watch started before them.

const LEASE_SESSION_MS = 6000;
const TAKE_OVER_LIMIT_MS = 30_000;
const EXIT_STEPPED_DOWN = 75;

let ctx: E2eContext;
let watch: SnapshotWatch;
const running: ServiceProcess[] = [];
const exits = new Map<ServiceProcess | string, { code: number | null; signal: NodeJS.Signals | null }>();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const clicksIn = (s: SeenSnapshot): number => offsetSum(s.meta.offsets);

beforeAll(async () => {
  ctx = await createE2eContext('standby');
  watch = await watchSnapshots(ctx.kafka, ctx.topics.adapters, ctx.trust);
}, 60_000);

afterAll(async () => {
  for (const s of running) {
    try {
      process.kill(s.pid, 'SIGCONT'); // none may stay stopped behind the test
    } catch {
      // exited already
    }
  }
  await Promise.all(running.map((s) => s.kill()));
  await watch?.stop();
  await ctx?.close();
});

function updaterEnv(): Record<string, string> {
  return {
    ...ctx.env,
    ...OPEN_GATE_ENV,
    // Info: the lease and fence lines are what a person reads, and what this test checks.
    LOG_LEVEL: 'info',
    RECO_LOG_PRETTY: '0',
    RECO_VARIANTS: 'ladder',
    RECO_PUBLISH_INTERVAL_MS: '200',
    RECO_SESSION_TIMEOUT_MS: '6000',
    RECO_LEASE_SESSION_TIMEOUT_MS: String(LEASE_SESSION_MS),
  };
}

async function startUpdater(name: string): Promise<ServiceProcess> {
  const started = await startService('updater', updaterEnv(), { onUnexpectedExit: (code, signal) => exits.set(name, { code, signal }) });
  running.push(started);
  exits.delete(name);
  return started;
}

function tails(...processes: ServiceProcess[]): string {
  return processes.map((p) => `--- updater ${p.url}\n${p.output().slice(-2500)}`).join('\n');
}

const produce = (from: number, to: number): Promise<void> => produceClicks(ctx, from, to);

/** Clicks [from, to) in chunks of 10 every 50 ms: a stream, not a backlog. */
function stream(from: number, to: number): Promise<void> {
  return (async () => {
    for (let at = from; at < to; at += 10) {
      await produce(at, Math.min(to, at + 10));
      await sleep(50);
    }
  })();
}

/** Versions in log order only ever go up, and no click is counted twice: what two publishers at once would break. */
function expectOneWriterHistory(): void {
  const versions = watch.seen.map((s) => s.meta.version);
  for (let i = 1; i < versions.length; i += 1) expect(versions[i], `versions in log order: ${versions.join(',')}`).toBeGreaterThan(versions[i - 1] ?? 0);
  const trained = watch.seen.map((s) => s.meta.examplesTrained);
  for (let i = 1; i < trained.length; i += 1) expect(trained[i], `examplesTrained in log order: ${trained.join(',')}`).toBeGreaterThanOrEqual(trained[i - 1] ?? 0);
  for (const s of watch.seen) expect(s.meta.examplesTrained).toBe(clicksIn(s));
}

async function finalSnapshotCounts(total: number, ...processes: ServiceProcess[]): Promise<SeenSnapshot> {
  const last = await until('a snapshot trained on every click', () => watch.seen.find((s) => clicksIn(s) >= total), 120_000, 100).catch((error: unknown) => {
    throw new Error(`${String(error)}; last: ${JSON.stringify(watch.seen.at(-1)?.meta.offsets)}\n${tails(...processes)}`);
  });
  expect(clicksIn(last)).toBe(total);
  expect(last.meta.examplesTrained).toBe(total);
  // Idle a moment: nothing may be trained twice afterwards either.
  await sleep(1500);
  expect(watch.seen.at(-1)?.meta.examplesTrained).toBe(total);
  return last;
}

let active: ServiceProcess;
let standby: ServiceProcess;

describe('a standby updater and the fence', () => {
  it('two updaters for the same variants: one active, one standby; kill -9 of the active while clicks stream, the standby takes over within 30 s and every click is trained exactly once', async () => {
    active = await startUpdater('first');
    expect(await updaterRole(active.url)).toBe('active');
    standby = await startUpdater('second');
    expect(await updaterRole(standby.url)).toBe('standby');
    expect([await updaterActiveGauge(active.url), await updaterActiveGauge(standby.url)]).toEqual([1, 0]);
    expect(logLines(active.output(), /^lease acquired: active/)).toHaveLength(1);
    expect(logLines(standby.output(), /^standby: waiting/).length).toBeGreaterThanOrEqual(1);
    expect(logLines(standby.output(), /^lease acquired/)).toHaveLength(0);

    await produce(0, 300);
    await until('a first snapshot from the active', () => watch.seen.find((s) => s.meta.examplesTrained > 0), 60_000, 100).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${tails(active, standby)}`);
    });
    // The standby published nothing meanwhile: every record so far is the active's, in one history.
    expect(logLines(standby.output(), /^snapshot published/)).toHaveLength(0);

    const streaming = stream(300, 600);
    await sleep(800); // mid-stream
    const killedAt = Date.now();
    await active.kill();
    const lastBefore = watch.seen.at(-1);
    const tookOver = await until('the standby to become active', async () => ((await updaterActiveGauge(standby.url)) === 1 ? Date.now() : undefined), TAKE_OVER_LIMIT_MS, 100).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${tails(standby)}`);
    });
    await streaming;
    const firstFromStandby = await until('a snapshot from the new active', () => watch.seen.find((s) => s.meta.version > (lastBefore?.meta.version ?? 0)), TAKE_OVER_LIMIT_MS, 50);
    const takeOverMs = tookOver - killedAt;
    const toFirstPublishMs = firstFromStandby.receivedAt - killedAt;
    console.log(`standby take-over: lease acquired ${takeOverMs} ms after kill -9 (lease session ${LEASE_SESSION_MS} ms), first snapshot ${toFirstPublishMs} ms after; last before the kill counted ${lastBefore?.meta.examplesTrained ?? 0} of 600`);
    expect(takeOverMs).toBeLessThan(TAKE_OVER_LIMIT_MS);
    expect(toFirstPublishMs).toBeLessThan(TAKE_OVER_LIMIT_MS);
    expect(await updaterRole(standby.url)).toBe('active');
    expect(logLines(standby.output(), /^lease acquired: active/)).toHaveLength(1);
    expect(logLines(standby.output(), /^fence up/)).toHaveLength(1);

    await finalSnapshotCounts(600, standby);
    expectOneWriterHistory();
  }, 240_000);

  it('a zombie (the active paused past its lease, then woken) cannot publish once the new active fenced it: it steps down and exits non-zero, and the topic holds one history', async () => {
    const zombie = standby; // the active now
    const next = await startUpdater('third');
    expect(await updaterRole(next.url)).toBe('standby');
    const streaming = stream(600, 900);
    await sleep(500);
    process.kill(zombie.pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    const seenAtStop = watch.seen.length;
    await until('the standby to take the lease from the paused active', async () => ((await updaterActiveGauge(next.url)) === 1 ? true : undefined), TAKE_OVER_LIMIT_MS, 100).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${tails(next)}`);
    });
    await until('the new active to publish', () => (watch.seen.length > seenAtStop && logLines(next.output(), /^snapshot published/).length > 0 ? true : undefined), TAKE_OVER_LIMIT_MS, 50);
    console.log(`paused active replaced in ${Date.now() - stoppedAt} ms`);
    // The zombie wakes up believing it is active, with trained clicks it has not published.
    const exited = new Promise<{ code: number | null }>((resolve) => {
      const poll = setInterval(() => {
        const exit = exits.get('second');
        if (exit !== undefined) {
          clearInterval(poll);
          resolve(exit);
        }
      }, 50);
    });
    process.kill(zombie.pid, 'SIGCONT');
    const { code } = await Promise.race([exited, sleep(30_000).then(() => ({ code: -1 }))]);
    expect(code, tails(zombie)).toBe(EXIT_STEPPED_DOWN);
    const steppedDown = logLines(zombie.output(), /^stepping down/);
    expect(steppedDown).toHaveLength(1);
    expect(String(steppedDown[0]?.reason)).toMatch(/^(fenced|lease lost)/);
    console.log(`zombie stepped down: ${String(steppedDown[0]?.reason)}`);
    await streaming;
    await finalSnapshotCounts(900, next);
    expectOneWriterHistory();
    standby = next;
  }, 240_000);

  it('a second writer with the same transactional id fences the running active: its next publish is refused, it says "fenced" and exits non-zero, and nothing more of it is committed', async () => {
    const victim = standby;
    const intruder = await SnapshotPublisher.open({ kafka: ctx.kafka, topic: ctx.topics.adapters, variants: ['ladder'], logger: silentLogger });
    const seenAtFence = watch.seen.length;
    const exited = new Promise<{ code: number | null }>((resolve) => {
      const poll = setInterval(() => {
        const exit = exits.get('third');
        if (exit !== undefined) {
          clearInterval(poll);
          resolve(exit);
        }
      }, 50);
    });
    // Clicks for it to train, so that it tries to publish.
    await produce(900, 950);
    const { code } = await Promise.race([exited, sleep(30_000).then(() => ({ code: -1 }))]);
    expect(code, tails(victim)).toBe(EXIT_STEPPED_DOWN);
    expect(logLines(victim.output(), /^fenced: a newer updater/), tails(victim)).toHaveLength(1);
    expect(String(logLines(victim.output(), /^stepping down/)[0]?.reason)).toMatch(/^fenced/);
    await sleep(1000);
    expect(watch.seen.length).toBe(seenAtFence);
    await intruder.disconnect();
    expectOneWriterHistory();
  }, 120_000);
});
