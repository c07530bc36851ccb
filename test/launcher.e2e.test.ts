import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smallWorldFixture, type SmallFixture } from '@reco/model/testing';
import { createKafkaClient, readKafkaConfig, silentLogger, topicSpecs } from '@reco/stream';
import { freePort } from '@reco/stream/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartDelayMs } from '../scripts/lib/service-supervisor.js';
import { isProcessAlive } from '@reco/stream/testing';
import { brokerPidsUsing, errorLevelLines, startLauncher, type LauncherProcess } from './harness/launcher-process.js';

// `npm start` as a person runs it: the launcher process with its own embedded broker (never the
// test run's shared one), a cache folder of its own, and the small fixture backbone so that
// nothing is pretrained. Ctrl-C must take under 10 s; the 2 shared cores get a little headroom
// for the process exit itself, never for the launcher's own shutdown.
const STOP_LIMIT_MS = 10_000;

function javaRuns(): boolean {
  try {
    execFileSync(process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const haveJava = javaRuns();
if (!haveJava) console.warn('launcher e2e skipped: the embedded broker needs Java 17 (install it or set JAVA_HOME)');

let fixture: SmallFixture;
let cacheDir: string;
/** The healthy-start test's own cache folder (its own broker data). */
let quietCacheDir: string;
const launchers: LauncherProcess[] = [];

beforeAll(async () => {
  fixture = await smallWorldFixture();
  cacheDir = await mkdtemp(join(tmpdir(), 'reco-launcher-e2e-'));
  quietCacheDir = await mkdtemp(join(tmpdir(), 'reco-launcher-quiet-'));
});

afterAll(async () => {
  // A failed assertion must not leave a launcher, a service or a broker behind.
  for (const launcher of launchers) launcher.killAll();
  await Promise.all(launchers.map((l) => l.exited));
  for (const dir of [cacheDir, quietCacheDir]) {
    for (const pid of brokerPidsUsing(dir).filter(isProcessAlive)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

function launch(servingPort: number, updaterPort: number, extraArgs: string[] = [], options: { cacheDir?: string; env?: Record<string, string>; simulate?: boolean } = {}): LauncherProcess {
  const env: Record<string, string | undefined> = {
    ...process.env,
    RECO_BACKBONE_DIR: fixture.dir,
    // A restarted updater rejoins its group once the killed member's session ends: keep that short.
    RECO_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'warn',
    // What a terminal shows (the output here is a pipe, which would get JSON lines).
    RECO_LOG_PRETTY: '1',
    ...options.env,
  };
  // The launcher's own broker, topics without prefix and a key it makes itself: what npm start does.
  for (const name of ['KAFKA_BROKERS', 'RECO_TOPIC_PREFIX', 'RECO_SNAPSHOT_KEY', 'RECO_GROUP_ID', 'RECO_ADMIN_TOKEN']) delete env[name];
  const simulate = options.simulate === true ? [] : ['--no-simulate'];
  const launcher = startLauncher({
    cacheDir: options.cacheDir ?? cacheDir,
    env,
    args: [...simulate, '--variants', 'ladder', '--port', String(servingPort), '--updater-port', String(updaterPort), ...extraArgs],
  });
  launchers.push(launcher);
  return launcher;
}

async function postClicks(servingUrl: string, clicks: ReadonlyArray<{ userId: string; itemId: string }>): Promise<number> {
  const response = await fetch(`${servingUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: clicks.map((c) => ({ userId: c.userId, itemId: c.itemId, type: 'click', ts: Date.now() })) }),
  });
  const body = (await response.json()) as { accepted?: number };
  if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}: ${JSON.stringify(body)}`);
  return body.accepted ?? 0;
}

async function eventsEndOffset(brokers: string): Promise<number> {
  const kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: brokers }, { defaultClientId: 'launcher-e2e' }), silentLogger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topicSpecs({ prefix: '' }).events.name);
    return offsets.reduce((sum, o) => sum + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Stops the launcher the given way and returns how long it took to exit, with its exit status. */
async function stopTimed(launcher: LauncherProcess, how: () => void): Promise<{ ms: number; code: number | null }> {
  const began = Date.now();
  how();
  const { code } = await Promise.race([
    launcher.exited,
    new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`the launcher did not exit within 20 s:\n${launcher.output().slice(-4000)}`)), 20_000)),
  ]);
  return { ms: Date.now() - began, code };
}

describe('restart delays', () => {
  it('double from 1 s and stop growing at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => restartDelayMs(n))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });
});

describe.skipIf(!haveJava)('npm start launcher', () => {
  it('restarts a kill -9 updater while serving answers, loses no click, stops on Ctrl-C in under 10 s; a second start finds the first one\'s events, --fresh wipes them', async () => {
    const [servingPort, updaterPort] = [await freePort(), await freePort()];
    const servingUrl = `http://127.0.0.1:${servingPort}`;
    const clicks = fixture.world.stream.filter((e) => e.type === 'click');
    let accepted = 0;

    // 1. First start on an empty cache folder.
    const first = launch(servingPort, updaterPort);
    await first.waitFor(/\[start\] up and running/, 150_000);
    const updaterPid = Number((await first.waitFor(/\[start\] updater running as pid (\d+)/, 1000))[1]);
    const servingPid = Number((await first.waitFor(/\[start\] serving running as pid (\d+)/, 1000))[1]);
    const brokers = (await first.waitFor(/^\s+kafka\s+(127\.0\.0\.1:\d+)/m, 1000))[1] ?? '';
    const keyFile = join(cacheDir, 'snapshot.key');
    expect((await readFile(keyFile, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    for (let i = 0; i < 100; i += 20) accepted += await postClicks(servingUrl, clicks.slice(i, i + 20));
    expect(accepted).toBe(100);

    // 2. kill -9 the updater while a client keeps posting clicks and asking for recommendations.
    // postClicks throws on anything but a 202, so every post in the loop is a 2xx or fails the test.
    const recommendationStatuses: number[] = [];
    let posts = 0;
    let traffic = true;
    let cursor = 100;
    const client = (async () => {
      while (traffic) {
        const recommendation = await fetch(`${servingUrl}/v1/recommendations?userId=${clicks[cursor]?.userId ?? 'u1'}&k=5`);
        await recommendation.body?.cancel();
        recommendationStatuses.push(recommendation.status);
        accepted += await postClicks(servingUrl, clicks.slice(cursor, cursor + 5));
        posts += 1;
        cursor += 5;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    client.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
    const mark = first.output().length;
    process.kill(updaterPid, 'SIGKILL');
    await first.waitFor(/\[start\] updater exited unexpectedly \(killed by SIGKILL\)[^\n]*restarting it in 1\.0 s/, 15_000, mark);
    const back = await first.waitFor(/\[start\] updater is back after restart 1: pid (\d+)/, 90_000, mark);
    const restartedPid = Number(back[1]);
    expect(restartedPid).not.toBe(updaterPid);
    expect(isProcessAlive(updaterPid)).toBe(false);
    const ready = await fetch(`http://127.0.0.1:${updaterPort}/readyz`);
    await ready.body?.cancel();
    expect(ready.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000)); // a little traffic after the restart as well
    traffic = false;
    await client;
    // Serving never noticed: the same process, every request answered 2xx, the stack still up.
    expect(isProcessAlive(servingPid)).toBe(true);
    expect(first.output()).not.toMatch(/\[start\] serving exited/);
    expect(posts).toBeGreaterThanOrEqual(5);
    expect(recommendationStatuses.length).toBeGreaterThanOrEqual(5);
    expect(recommendationStatuses.filter((s) => s < 200 || s > 299)).toEqual([]);

    // 3. Nothing lost: the events topic holds every accepted click.
    expect(await eventsEndOffset(brokers)).toBe(accepted);

    // 4. Ctrl-C: everything stops within 10 s and no broker is left on this cache folder.
    const brokerPid = JSON.parse(await readFile(join(cacheDir, 'kafka', 'local-kafka.json'), 'utf8')) as { brokerPid: number };
    const ctrlC = await stopTimed(first, () => first.ctrlC());
    expect(ctrlC.code).toBe(0);
    expect(ctrlC.ms).toBeLessThan(STOP_LIMIT_MS);
    expect(first.output()).toMatch(/\[start\] stopped in \d+\.\d s/);
    expect(brokerPidsUsing(cacheDir)).toEqual([]);
    expect([brokerPid.brokerPid, servingPid, restartedPid].filter(isProcessAlive)).toEqual([]);
    expect(existsSync(join(cacheDir, 'kafka', 'data', 'meta.properties'))).toBe(true);

    // 5. A second start on the same cache folder: same broker address, the first run's events.
    const second = launch(servingPort, updaterPort);
    await second.waitFor(/\[start\] up and running/, 150_000);
    expect(second.output()).toMatch(/\[start\] broker data kept from earlier runs/);
    expect((await second.waitFor(/^\s+kafka\s+(127\.0\.0\.1:\d+)/m, 1000))[1]).toBe(brokers);
    expect(await eventsEndOffset(brokers)).toBe(accepted);
    accepted += await postClicks(servingUrl, clicks.slice(0, 1));
    expect(await eventsEndOffset(brokers)).toBe(accepted);

    // 6. SIGTERM to the launcher alone (a process manager, not a terminal): it stops its children itself.
    const servingPid2 = Number((await second.waitFor(/\[start\] serving running as pid (\d+)/, 1000))[1]);
    const updaterPid2 = Number((await second.waitFor(/\[start\] updater running as pid (\d+)/, 1000))[1]);
    const term = await stopTimed(second, () => process.kill(second.pid, 'SIGTERM'));
    expect(term.code).toBe(0);
    expect(term.ms).toBeLessThan(STOP_LIMIT_MS);
    expect(brokerPidsUsing(cacheDir)).toEqual([]);
    expect([servingPid2, updaterPid2].filter(isProcessAlive)).toEqual([]);

    // 7. --fresh: the same folder, its broker data wiped; the signing key stays.
    const key = await readFile(keyFile, 'utf8');
    const fresh = launch(servingPort, updaterPort, ['--fresh']);
    await fresh.waitFor(/\[start\] up and running/, 150_000);
    expect(fresh.output()).toMatch(/\[start\] broker data in \S+, wiped as --fresh asked/);
    expect(await eventsEndOffset(brokers)).toBe(0);
    expect(await readFile(keyFile, 'utf8')).toBe(key);
    const freshStop = await stopTimed(fresh, () => fresh.ctrlC());
    expect(freshStop.code).toBe(0);
    expect(brokerPidsUsing(cacheDir)).toEqual([]);
    console.log(
      `launcher e2e: ${accepted} clicks, updater back as pid ${restartedPid} (${recommendationStatuses.length} recommendations meanwhile, all 2xx); ` +
        `stopped in ${ctrlC.ms} ms (Ctrl-C), ${term.ms} ms (SIGTERM), ${freshStop.ms} ms (Ctrl-C after --fresh)`,
    );
  }, 300_000);

  it('a healthy start shows no error-level line up to the first applied snapshot, says once per service that Kafka is ready, and ends with the status block', async () => {
    const [servingPort, updaterPort] = [await freePort(), await freePort()];
    const servingUrl = `http://127.0.0.1:${servingPort}`;
    // As a person runs it: the default log level, the traffic simulator on, an empty cache folder
    // (a broker formatting new storage is the start whose coordinator loads while services connect).
    const launcher = launch(servingPort, updaterPort, [], { cacheDir: quietCacheDir, env: { LOG_LEVEL: 'info' }, simulate: true });
    await launcher.waitFor(/\[start\] up and running/, 150_000);
    const applied = await launcher.waitFor(/\[serving\] snapshot applied \{"variant":"ladder","version":1\b/, 60_000);
    const startUp = launcher.output().slice(0, (applied.index ?? 0) + applied[0].length);

    expect(errorLevelLines(startUp), 'error-level lines during a healthy start').toEqual([]);
    expect(startUp).not.toMatch(/^\[[\d:.]+\] WARN: .*(switched default partitioner|coordinator is loading|coordinator is not available|ECONNREFUSED)/m);
    // One line per service when the broker answers; KafkaJS's own chatter is at debug.
    expect(startUp.match(/INFO: \[serving\] Kafka ready/g)).toHaveLength(1);
    expect(startUp.match(/INFO: \[updater\] Kafka ready/g)).toHaveLength(1);
    expect(startUp).not.toMatch(/INFO: \[(serving|updater)\] (Starting|Consumer has joined the group)\b/);
    // The simulator's requests (and the launcher's readiness polls) are debug lines, not shown at info.
    expect(startUp).toMatch(/\[start\] traffic simulator: /);
    expect(startUp).not.toMatch(/\b(incoming request|request completed)\b/);

    // The status block: every address a person needs, the admin token, the cache folder.
    const block = (await launcher.waitFor(/\[start\] up and running:\n(?: {2}.*\n)+/, 1000))[0];
    expect(block).toContain(`  dashboard    ${servingUrl}/\n`);
    expect(block).toContain(`  serving      ${servingUrl}   (API docs: ${servingUrl}/docs, metrics: ${servingUrl}/metrics)`);
    expect(block).toContain(`  updater      http://127.0.0.1:${updaterPort}/metrics`);
    expect(block).toMatch(/^ {2}kafka {8}127\.0\.0\.1:\d+ /m);
    expect(block).toContain(`  cache        ${quietCacheDir}\n`);
    const token = block.match(/^ {2}admin token {2}([0-9a-f]{24}) /m)?.[1];
    expect(token).toBeDefined();
    // The token shown is the one serving checks (a wrong one is 403; what the rollback itself answers is not the point here).
    const refused = await fetch(`${servingUrl}/v1/models/ladder/rollback`, { method: 'POST', headers: { authorization: 'Bearer wrong' } });
    await refused.body?.cancel();
    const rollback = await fetch(`${servingUrl}/v1/models/ladder/rollback`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    await rollback.body?.cancel();
    expect(refused.status).toBe(403);
    expect([401, 403]).not.toContain(rollback.status);

    const stopped = await stopTimed(launcher, () => launcher.ctrlC());
    expect(stopped.code).toBe(0);
    expect(brokerPidsUsing(quietCacheDir)).toEqual([]);
  }, 240_000);
});
