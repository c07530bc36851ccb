import { openSnapshot, type AdapterSnapshot } from '@reco/model';
import { encodeEvent, readToEnd, sendWithinLimit } from '@reco/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createE2eContext, until, type E2eContext, OPEN_GATE_ENV } from './harness/e2e-context.js';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';

// Issue 10 item 2: a rollback asked of one replica is a signed record on reco.adapters, so every
// replica and the updater act on it. Services as processes, on the real broker.
const ADMIN_TOKEN = 'rollback-record-admin-token';

let ctx: E2eContext;
let replicas: ServiceProcess[] = [];
let updater: ServiceProcess | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  ctx = await createE2eContext('rollback-record');
  env = { ...ctx.env, ...OPEN_GATE_ENV, RECO_VARIANTS: 'ladder', RECO_DEFAULT_VARIANT: 'ladder', RECO_PUBLISH_INTERVAL_MS: '300', RECO_SESSION_TIMEOUT_MS: '6000', RECO_ADMIN_TOKEN: ADMIN_TOKEN };
  const started = await Promise.all([startService('updater', env), startService('serving', env), startService('serving', env)]);
  updater = started[0];
  replicas = started.slice(1);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([updater?.stop(), ...replicas.map((r) => r.stop())]);
  await ctx?.close().catch(() => undefined);
});

interface Live {
  version: number;
  previousVersion: number | null;
  offsets: Record<string, string>;
  examplesTrained: number;
}

async function live(replica: ServiceProcess): Promise<Live | undefined> {
  const body = (await (await fetch(`${replica.url}/v1/models`)).json()) as { variants: Array<Live & { variant: string }> };
  return body.variants.find((v) => v.variant === 'ladder');
}

async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Every verified ladder record on the topic, in log order. */
async function records(): Promise<AdapterSnapshot[]> {
  const out: AdapterSnapshot[] = [];
  await readToEnd(ctx.kafka, ctx.topics.adapters.name, (message) => {
    const opened = openSnapshot(message.value, ctx.trust);
    if (opened.ok && opened.snapshot.meta.variant === 'ladder') out.push(opened.snapshot);
  });
  return out;
}

const clicks = (): Array<{ userId: string; itemId: string }> => ctx.fixture.world.stream.filter((e) => e.type === 'click');
let sent = 0;
async function produce(count: number): Promise<void> {
  const batch = clicks().slice(sent, sent + count);
  sent += batch.length;
  await sendWithinLimit(ctx.producer, ctx.topics.events, batch.map((e, i) => ({ key: e.userId, value: encodeEvent({ userId: e.userId, itemId: e.itemId, type: 'click', ts: Date.now() + i }) })));
}

const sum = (offsets: Record<string, string>): number => Object.values(offsets).reduce((a, o) => a + Number(o), 0);

/** Every replica answers with `version`; resolves with what the first one says. */
async function allAt(version: number, what: string): Promise<Live> {
  return until(what, async () => {
    const seen = await Promise.all(replicas.map(live));
    return seen.every((s) => s?.version === version) ? seen[0] : undefined;
  }, 60_000, 200);
}

/** Trained up to every click sent, published, and applied by every replica; nothing more coming. */
async function settled(what: string): Promise<Live> {
  let last = -1;
  let stableSince = Date.now();
  return until(what, async () => {
    const seen = await Promise.all(replicas.map(live));
    const version = seen[0]?.version ?? 0;
    if (version !== last || seen.some((s) => s?.version !== version) || seen[0]?.examplesTrained !== sent) {
      last = version;
      stableSince = Date.now();
      return undefined;
    }
    return Date.now() - stableSince > 1500 ? seen[0] : undefined;
  }, 180_000, 250);
}

async function rollback(replica: ServiceProcess): Promise<{ variant: string; version: number; rolledBackFrom: number; restores: number }> {
  const res = await fetch(`${replica.url}/v1/models/ladder/rollback`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const body = await res.text();
  expect(res.status, body).toBe(200);
  return JSON.parse(body) as { variant: string; version: number; rolledBackFrom: number; restores: number };
}

describe('the rollback record', () => {
  it('rolls back every replica and the updater, which trains on from the restored offsets; a restarted updater resumes from the record', async () => {
    const fail = (error: unknown): never => {
      throw new Error(`${String(error)}\n--- updater ---\n${updater?.output().slice(-3000) ?? ''}\n--- serving ---\n${replicas.map((r) => r.output().slice(-2000)).join('\n---\n')}`);
    };
    await produce(150);
    const before = await settled('150 clicks published and applied by both replicas').catch(fail);
    expect(before.previousVersion).not.toBeNull();
    const restoredVersion = before.previousVersion ?? 0;
    const restored = (await records()).find((r) => r.meta.version === restoredVersion);
    expect(restored?.meta.examplesTrained).toBeLessThan(150);
    if (restored === undefined) return;

    // Asked of the second replica; both answer with the record's version and the restored position.
    const done = await rollback(replicas[1]!).catch(fail);
    expect(done).toEqual({ variant: 'ladder', version: before.version + 1, rolledBackFrom: before.version, restores: restoredVersion });
    const rolledBack = await allAt(done.version, 'both replicas at the rollback record').catch(fail);
    expect(rolledBack).toMatchObject({ offsets: restored.meta.offsets, examplesTrained: restored.meta.examplesTrained, previousVersion: null });
    const record = (await records()).at(-1);
    expect(record?.meta).toMatchObject({ version: done.version, rollback: { from: before.version, restores: restoredVersion } });

    // The updater adopted it: its next snapshot is the restored parameters trained on the clicks
    // after the restored offsets (again), numbered after the record, applied by both replicas.
    await until('the updater adopted the record', async () => ((await metric(updater?.url ?? '', 'reco_updater_rollbacks_adopted_total{variant="ladder"}')) === 1 ? true : undefined), 60_000, 250).catch(fail);
    // On a loaded machine the retraining may publish part-way; every snapshot after the record
    // counts from the restored position, and the one at the end of the log has trained all 150.
    const after = await until('the updater\'s snapshot after the record at the end of the log', async () => {
      const newer = (await records()).filter((r) => r.meta.version > done.version);
      return newer.some((r) => sum(r.meta.offsets) === 150) ? newer : undefined;
    }, 120_000, 250).catch(fail);
    for (const snapshot of after) {
      expect(snapshot.meta.rollback).toBeUndefined();
      expect(snapshot.meta.examplesTrained - restored.meta.examplesTrained).toBe(sum(snapshot.meta.offsets) - sum(restored.meta.offsets));
    }
    expect(after[0]?.meta.version).toBe(done.version + 1);
    const retrained = after.find((r) => sum(r.meta.offsets) === 150)!;
    expect(retrained.meta.examplesTrained).toBe(restored.meta.examplesTrained + (150 - sum(restored.meta.offsets)));

    // New clicks move the variant forward again on every replica.
    await produce(100);
    const forward = await settled('100 more clicks on every replica').catch(fail);
    expect(forward.version).toBeGreaterThan(retrained.meta.version);
    expect(forward.examplesTrained).toBe(250);

    // With the updater down, a rollback on the first replica; the restarted updater resumes from
    // the record (the newest on the topic), so it has nothing to adopt and trains on from it.
    await updater?.stop();
    updater = undefined;
    const beforeSecond = await settled('the stopped updater\'s last snapshot applied').catch(fail);
    const second = await rollback(replicas[0]!).catch(fail);
    expect(second.version).toBe(beforeSecond.version + 1);
    const restored2 = (await records()).find((r) => r.meta.version === second.restores);
    if (restored2 === undefined) throw new Error(`v${second.restores} is not on the topic`);
    await allAt(second.version, 'both replicas at the second rollback record').catch(fail);
    updater = await startService('updater', env).catch(fail);
    await produce(50);
    const resumed = await until('a snapshot of the restarted updater', async () => (await records()).find((r) => r.meta.version > second.version), 120_000, 250).catch(fail);
    const finalState = await settled('the restarted updater\'s snapshots on every replica').catch(fail);
    expect(resumed.meta.version).toBe(second.version + 1);
    // The record's parameters trained on from its offsets: every click after them once, the 50 new ones included.
    expect(finalState.examplesTrained).toBe(restored2.meta.examplesTrained + (300 - sum(restored2.meta.offsets)));
    expect(sum(finalState.offsets)).toBe(300);
    expect(await metric(updater.url, 'reco_updater_rollbacks_adopted_total{variant="ladder"}')).toBe(0);
  }, 600_000);
});
