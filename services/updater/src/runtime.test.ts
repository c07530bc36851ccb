import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createRng } from '@reco/data';
import { Backbone, initBackend, openSnapshot, saveCheckpoint, snapshotTrust, type AdapterSnapshot } from '@reco/model';
import { createKafkaClient, createLogger, encodeEvent, readKafkaConfig, readToEnd, sendWithinLimit, silentLogger, topicSpecs, type Kafka, type Producer, type RecoEvent, type ServiceLogger } from '@reco/stream';
import { testKafkaBrokers, uniqueName } from '@reco/stream/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUpdaterConfig } from './config.js';
import { acquireLease, leaseGroup } from './lease.js';
import { SnapshotPublisher } from './snapshot-publisher.js';
import { buildUpdaterRuntime, EXIT_STEPPED_DOWN, type UpdaterRuntime } from './runtime.js';

// What main.ts runs, in this process, against the real broker: a small random backbone (the
// runtime's job here is the lifecycle: lease, fence, resume, loop, stop), fresh topics per test.
const SNAPSHOT_KEY = '3c'.repeat(32);
const trust = snapshotTrust(SNAPSHOT_KEY, false);
const itemIds = Array.from({ length: 40 }, (_, i) => `i${i}`);
const LEASE_SESSION_MS = 10_000;
/** A record on the adapters topic that no updater may resume from (the first test plants it). */
const PLANTED = Buffer.from('RSNP garbage');

let dir: string;
let kafka: Kafka;
let producer: Producer;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'reco-updater-runtime-'));
  const backbone = Backbone.random({ numItems: itemIds.length, dim: 16, blocks: 2, heads: 2, maxLen: 10, ffnDim: 32, layerNormEpsilon: 1e-5 }, createRng(11));
  await saveCheckpoint(dir, backbone, itemIds);
  backbone.dispose();
  kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: 'updater-runtime-test' }), silentLogger);
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function env(prefix: string, groupId: string): Record<string, string> {
  return {
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    RECO_BACKBONE_DIR: dir,
    RECO_TOPIC_PREFIX: prefix,
    RECO_GROUP_ID: groupId,
    RECO_VARIANTS: 'ladder',
    RECO_BACKBONE_ENGINE: 'tfjs',
    RECO_SNAPSHOT_KEY: SNAPSHOT_KEY,
    RECO_SESSION_TIMEOUT_MS: '6000',
    RECO_LEASE_SESSION_TIMEOUT_MS: String(LEASE_SESSION_MS),
    RECO_PUBLISH_INTERVAL_MS: '200',
    RECO_BATCH_SIZE: '16',
    RECO_FRESH_PER_STEP: '8',
    RECO_SIDE_CAPACITY: '16',
    // A random backbone on random clicks ranks no better one step than the next: the gate's own
    // tests are in @reco/model; here it must not refuse at random.
    RECO_GATE_MAX_LOSS_INCREASE: '10',
    RECO_GATE_MAX_RANKING_DROP: '1',
    PORT: '0',
    LOG_LEVEL: 'info',
  };
}

/** A JSON logger whose lines the test reads (the runtime's own log is part of what main.ts promises). */
function capturedLogger(): { logger: ServiceLogger; messages(pattern: RegExp): Array<Record<string, unknown>>; order(): string[] } {
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      partial += chunk.toString();
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return {
    logger: createLogger({ name: 'updater', level: 'info', pretty: false, destination }),
    messages: (pattern) => lines.filter((l) => typeof l.msg === 'string' && pattern.test(l.msg)),
    order: () => lines.map((l) => String(l.msg)),
  };
}

function clicks(count: number, from: number): RecoEvent[] {
  const rng = createRng(from + 1);
  return Array.from({ length: count }, (_, i) => ({ userId: `u${rng.int(6)}`, itemId: `i${rng.int(itemIds.length)}`, type: 'click', ts: Date.UTC(2026, 11, 1) + from + i }));
}

async function produce(prefix: string, events: RecoEvent[]): Promise<void> {
  await sendWithinLimit(producer, topicSpecs({ prefix }).events, events.map((e) => ({ key: e.userId, value: encodeEvent(e) })));
}

/** Every committed snapshot on the adapters topic, verified with the shared key. */
async function published(prefix: string): Promise<AdapterSnapshot[]> {
  const out: AdapterSnapshot[] = [];
  await readToEnd(kafka, topicSpecs({ prefix }).adapters.name, (message) => {
    if (message.value === null || message.value.equals(PLANTED)) return;
    const opened = openSnapshot(message.value, trust);
    if (!opened.ok) throw new Error(`published snapshot does not verify: ${opened.reason}`);
    out.push(opened.snapshot);
  });
  return out;
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const offsetSum = (snapshot: AdapterSnapshot): number => Object.values(snapshot.meta.offsets).reduce((sum, o) => sum + Number(o), 0);

async function readyz(runtime: UpdaterRuntime): Promise<{ statusCode: number; body: { status: string; reasons: string[]; role?: string; consumers: Array<{ name: string; state: string }> } }> {
  const res = await runtime.app.inject('/readyz');
  return { statusCode: res.statusCode, body: res.json() };
}

async function activeGauge(runtime: UpdaterRuntime): Promise<number> {
  const text = (await runtime.app.inject('/metrics')).body;
  const value = /^reco_updater_active (\d+)$/m.exec(text)?.[1];
  if (value === undefined) throw new Error('reco_updater_active missing from /metrics');
  return Number(value);
}

describe('updater runtime (what main.ts runs)', () => {
  it('builds without joining anything; start: the lease, then the fence, then the loop; trains and publishes every click; stop publishes last and leaves the lease', async () => {
    const prefix = `${uniqueName('upd-runtime')}.`;
    const log = capturedLogger();
    const stepDowns: string[] = [];
    const runtime = await buildUpdaterRuntime(readUpdaterConfig(env(prefix, uniqueName('upd-runtime-group'))), { logger: log.logger, onStepDown: (reason) => void stepDowns.push(reason) });
    let stopped = false;
    try {
      expect(runtime.backend).toMatch(/^(wasm|cpu|tensorflow)/);
      expect(runtime.engine).toBe('tfjs');
      expect((await runtime.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
      // Built, not started: no lease asked for yet, so not ready (a rolling update must wait).
      expect(runtime.role()).toBe('starting');
      expect(await readyz(runtime)).toEqual({ statusCode: 503, body: { status: 'not-ready', reasons: ['waiting for the lease group to name the active updater'], consumers: [], role: 'starting' } });
      expect(await activeGauge(runtime)).toBe(0);

      // A record the read must skip: its warning shows when the read ran.
      await sendWithinLimit(producer, topicSpecs({ prefix }).adapters, [{ key: 'ladder', value: PLANTED }]);

      expect(await runtime.start()).toBe(true);
      expect(runtime.role()).toBe('active');
      expect(await activeGauge(runtime)).toBe(1);
      const ready = await until('the events consumer to run', async () => {
        const r = await readyz(runtime);
        return r.statusCode === 200 ? r : undefined;
      });
      expect(ready.body).toEqual({ status: 'ready', reasons: [], consumers: [{ name: 'events', state: 'running' }], role: 'active' });
      const order = log.order();
      const at = (msg: RegExp): number => order.findIndex((m) => msg.test(m));
      expect(at(/^lease acquired: active/)).toBeGreaterThan(at(/^Kafka ready/));
      expect(at(/^fence up/)).toBeGreaterThan(at(/^lease acquired: active/));
      // The read of the latest snapshots comes after the fence, never before it.
      expect(at(/^skipping a snapshot that cannot be resumed from/)).toBeGreaterThan(at(/^fence up/));
      expect(at(/^updater started/)).toBeGreaterThan(at(/^skipping a snapshot/));
      expect((await runtime.app.inject('/metrics')).body).toMatch(/^reco_updater_snapshots_skipped_total\{variant="ladder",reason="corrupt"\} 1$/m);

      await produce(prefix, clicks(40, 0));
      const trained = await until('a snapshot of all 40 clicks', async () => (await published(prefix)).find((s) => s.meta.examplesTrained === 40));
      expect(trained.meta).toMatchObject({ variant: 'ladder', method: 'ladder' });
      expect(offsetSum(trained)).toBe(40);
      const metrics = (await runtime.app.inject('/metrics')).body;
      expect(metrics).toMatch(/^reco_updater_examples_trained_total\{variant="ladder"\} 40$/m);
      expect(metrics).toMatch(/^reco_backbone_engine_info\{engine="tfjs"\} 1$/m);

      // Ten more, and stop as soon as they are fed: whatever the publish timer has not sent yet,
      // stop() trains and publishes, so the last snapshot counts every click.
      await produce(prefix, clicks(10, 1000));
      await until('all 50 clicks fed', async () => (/^reco_updater_examples_trained_total\{variant="ladder"\} 50$/m.test((await runtime.app.inject('/metrics')).body) ? true : undefined));
      await runtime.stop('SIGTERM');
      stopped = true;
      expect(log.messages(/^shutting down/)).toMatchObject([{ signal: 'SIGTERM', role: 'active' }]);
      expect(log.messages(/^updater stopped/)).toHaveLength(1);
      const last = (await published(prefix)).at(-1);
      expect(last?.meta.examplesTrained).toBe(50);
      expect(last === undefined ? 0 : offsetSum(last)).toBe(50);
      // The lease was left, not abandoned: another member gets it well before the session would run out.
      const asked = Date.now();
      const lease = await acquireLease({
        kafka,
        topic: topicSpecs({ prefix }).lease.name,
        group: leaseGroup(topicSpecs({ prefix }).adapters.name, ['ladder']),
        sessionTimeoutMs: LEASE_SESSION_MS,
        logger: silentLogger,
        onLost: () => undefined,
        signal: AbortSignal.timeout(LEASE_SESSION_MS - 3000),
      });
      expect(Date.now() - asked).toBeLessThan(LEASE_SESSION_MS - 3000);
      await lease.release();
      expect(stepDowns).toEqual([]);
      // Stopped again: the same stop, nothing more.
      await runtime.stop('SIGINT');
      expect(log.messages(/^shutting down/)).toHaveLength(1);
    } finally {
      if (!stopped) await runtime.stop().catch(() => undefined);
    }
  }, 120_000);

  it('a second runtime for the same variants waits as standby (ready, not active); a third stopped while standby leaves at once; when the active stops, the standby takes over within the lease session and resumes from its last snapshot', async () => {
    const prefix = `${uniqueName('upd-standby')}.`;
    const groupId = uniqueName('upd-standby-group');
    const config = readUpdaterConfig(env(prefix, groupId));
    const [logA, logB, logC] = [capturedLogger(), capturedLogger(), capturedLogger()];
    const stepDowns: string[] = [];
    const onStepDown = (reason: string): void => void stepDowns.push(reason);
    const a = await buildUpdaterRuntime(config, { logger: logA.logger, onStepDown });
    const b = await buildUpdaterRuntime(config, { logger: logB.logger, onStepDown });
    const c = await buildUpdaterRuntime(config, { logger: logC.logger, onStepDown });
    const everyone = [a, b, c];
    try {
      expect(await a.start()).toBe(true);
      const bStarted = b.start();
      const cStarted = c.start();
      await until('b and c to wait as standby', () => (b.role() === 'standby' && c.role() === 'standby' ? true : undefined));
      expect(await readyz(b)).toEqual({ statusCode: 200, body: { status: 'ready', reasons: [], consumers: [], role: 'standby' } });
      expect([await activeGauge(a), await activeGauge(b), await activeGauge(c)]).toEqual([1, 0, 0]);

      await produce(prefix, clicks(30, 0));
      const fromA = await until('a snapshot of 30 clicks from the active', async () => (await published(prefix)).find((s) => s.meta.examplesTrained === 30));

      // Stopped while standby: it gives up the wait, publishes nothing, and the active keeps the lease.
      await c.stop('SIGTERM');
      expect(await cStarted).toBe(false);
      expect(logC.messages(/^fence up/)).toEqual([]);
      expect(a.role()).toBe('active');

      await a.stop('SIGTERM');
      const releasedAt = Date.now();
      await until('b to take the lease over', () => (b.role() === 'active' ? true : undefined), LEASE_SESSION_MS + 10_000);
      // Left, not timed out: the session would have had to run out first.
      expect(Date.now() - releasedAt).toBeLessThan(LEASE_SESSION_MS - 3000);
      expect(await bStarted).toBe(true);
      const lastOfA = (await published(prefix)).at(-1);
      expect(lastOfA?.meta.examplesTrained).toBe(30);
      expect(logB.messages(/^resuming from the latest verified snapshot/)).toMatchObject([{ variant: 'ladder', version: lastOfA?.meta.version }]);
      const order = logB.order();
      expect(order.findIndex((m) => m.startsWith('resuming from'))).toBeGreaterThan(order.findIndex((m) => m.startsWith('fence up')));
      expect(fromA.meta.version).toBeLessThanOrEqual(lastOfA?.meta.version ?? -1);

      await produce(prefix, clicks(20, 1000));
      const fromB = await until('a snapshot of all 50 clicks from the new active', async () => (await published(prefix)).find((s) => s.meta.examplesTrained === 50));
      expect(fromB.meta.version).toBeGreaterThan(lastOfA?.meta.version ?? Infinity);
      expect(offsetSum(fromB)).toBe(50);
      expect(await readyz(b)).toMatchObject({ statusCode: 200, body: { role: 'active' } });

      // Each start reads the events in a group of its own (`<group id>.<start id>`).
      const admin = kafka.admin();
      await admin.connect();
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(`${groupId}.`) && /\.[0-9a-f]{8}$/.test(id));
      await admin.disconnect();
      expect(new Set(groups).size).toBe(2);
      expect(stepDowns).toEqual([]);
    } finally {
      await Promise.allSettled(everyone.map((r) => r.stop()));
    }
  }, 180_000);

  it('fenced by a newer writer: steps down (the hook, not an exit), publishes nothing more, and stop() then frees it without a final publish', async () => {
    const prefix = `${uniqueName('upd-fenced')}.`;
    const config = readUpdaterConfig(env(prefix, uniqueName('upd-fenced-group')));
    const log = capturedLogger();
    const stepDowns: string[] = [];
    const runtime = await buildUpdaterRuntime(config, { logger: log.logger, onStepDown: (reason) => void stepDowns.push(reason) });
    let intruder: SnapshotPublisher | undefined;
    try {
      expect(await runtime.start()).toBe(true);
      intruder = await SnapshotPublisher.open({ kafka, topic: topicSpecs({ prefix }).adapters, variants: ['ladder'], logger: silentLogger });
      const before = (await published(prefix)).length;
      await produce(prefix, clicks(20, 0));
      await until('the step-down hook', () => (stepDowns.length > 0 ? true : undefined));
      expect(stepDowns).toHaveLength(1);
      expect(stepDowns[0]).toMatch(/^fenced: a newer updater took variant ladder over/);
      expect(log.messages(/^stepping down/)).toMatchObject([{ exitCode: EXIT_STEPPED_DOWN }]);
      expect(runtime.role()).toBe('starting');
      expect(await activeGauge(runtime)).toBe(0);
      expect((await readyz(runtime)).statusCode).toBe(503);
      await runtime.stop('SIGTERM');
      // Not the graceful path: nothing was published after the fence, not even by stop().
      expect(log.messages(/^shutting down/)).toEqual([]);
      expect((await published(prefix)).length).toBe(before);
      expect(stepDowns).toHaveLength(1);
    } finally {
      await intruder?.disconnect();
      await runtime.stop().catch(() => undefined);
    }
  }, 120_000);

  it('main.ts listens, becomes active and exits 0 on SIGTERM', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const prefix = `${uniqueName('upd-main')}.`;
    const child = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', 'src/main.ts'], {
      cwd,
      env: { ...process.env, ...env(prefix, uniqueName('upd-main-group')), HOST: '127.0.0.1', RECO_LOG_PRETTY: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const address = await until('main.ts to listen', () => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; output so far:\n${output}`);
      });
      await until('main.ts to be active and ready', async () => {
        const body = (await (await fetch(`${address}/readyz`)).json()) as { status: string; role?: string };
        return body.status === 'ready' && body.role === 'active' ? true : undefined;
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toMatch(/shutting down: finishing the step, publishing, leaving the group/);
      expect(output).toMatch(/updater stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
