import { randomBytes } from 'node:crypto';
import { buildSnapshot, createAdaptation, ItemCatalogue, sealSnapshot, snapshotTrust, type AdapterSnapshot } from '@reco/model';
import { encodeEvent, readToEnd, sendWithinLimit, silentLogger } from '@reco/stream';
import { readLatestSnapshots } from '@reco/updater';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createE2eContext, liveVersion, until, type E2eContext, OPEN_GATE_ENV } from './harness/e2e-context.js';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';

// Findings D, E and F of issue 10, as a hostile writer to reco.adapters would try them against
// both services running as processes on the real broker: forged and replayed snapshots must be
// refused and counted by reason, must not stop a restarted updater or be resumed from, and a
// rollback (a record on the topic, after the forgeries) must not leave the variant stuck.
const ADMIN_TOKEN = 'forgery-admin-token';

let ctx: E2eContext;
let serving: ServiceProcess;
let updater: ServiceProcess | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  ctx = await createE2eContext('snapshot-forgery');
  env = { ...ctx.env, ...OPEN_GATE_ENV, RECO_VARIANTS: 'ladder', RECO_DEFAULT_VARIANT: 'ladder', RECO_PUBLISH_INTERVAL_MS: '300', RECO_SESSION_TIMEOUT_MS: '6000', RECO_ADMIN_TOKEN: ADMIN_TOKEN };
  [updater, serving] = await Promise.all([startService('updater', env), startService('serving', env)]);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([updater?.stop(), serving?.stop()]);
  await ctx?.close().catch(() => undefined);
});

async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const clicks = (): Array<{ userId: string; itemId: string }> => ctx.fixture.world.stream.filter((e) => e.type === 'click');
let sent = 0;
async function produce(count: number): Promise<void> {
  const batch = clicks().slice(sent, sent + count);
  sent += batch.length;
  await sendWithinLimit(ctx.producer, ctx.topics.events, batch.map((e, i) => ({ key: e.userId, value: encodeEvent({ userId: e.userId, itemId: e.itemId, type: 'click', ts: Date.now() + i }) })));
}

/** Every ladder record on the topic with a valid signature, by version (the real history). */
async function realRecords(): Promise<Map<number, Buffer>> {
  const { openSnapshot } = await import('@reco/model');
  const records = new Map<number, Buffer>();
  await readToEnd(ctx.kafka, ctx.topics.adapters.name, (message) => {
    if (message.value === null) return;
    const opened = openSnapshot(message.value, ctx.trust);
    if (opened.ok && opened.snapshot.meta.variant === 'ladder' && opened.snapshot.meta.backboneId === ctx.fixture.checkpoint.backboneId) records.set(opened.snapshot.meta.version, Buffer.from(message.value));
  });
  return records;
}

/** A ladder snapshot with a side table of `capacity` slots, built by the model package. */
async function ladderWithCapacity(version: number, capacity: number): Promise<AdapterSnapshot> {
  const { checkpoint } = ctx.fixture;
  const method = createAdaptation('ladder', checkpoint.backbone, new ItemCatalogue(checkpoint.itemIds, capacity), { seed: 1 });
  try {
    return buildSnapshot({ variant: 'ladder', version, backboneId: checkpoint.backboneId, offsets: {}, examplesTrained: 0, figures: {}, newestEventTs: null, publishedAt: Date.now() }, await method.serialize());
  } finally {
    method.dispose();
  }
}

describe('forged snapshots against services as processes', () => {
  it('are refused and counted by reason; a restarted updater resumes from the last verified snapshot; a rollback then new clicks move the variant forward', async () => {
    const fail = (error: unknown): never => {
      throw new Error(`${String(error)}\n--- updater ---\n${updater?.output().slice(-3000) ?? ''}\n--- serving ---\n${serving.output().slice(-3000)}`);
    };
    await produce(200);
    const v2 = await until('serving at version 2 or later', async () => ((await liveVersion(serving.url, 'ladder')) >= 2 ? true : undefined), 120_000, 250).catch(fail);
    expect(v2).toBe(true);
    // Stop the updater (gracefully: its last publish lands) so the live version holds still.
    await updater?.stop();
    updater = undefined;
    const records = await realRecords();
    const live = Math.max(...records.keys());
    await until('serving at the last published version', async () => ((await liveVersion(serving.url, 'ladder')) === live ? true : undefined), 30_000).catch(fail);
    const real = await readLatestSnapshots(ctx.kafka, ctx.topics.adapters.name, silentLogger, ctx.resumeCheck);
    const latest = real.get('ladder');
    expect(latest?.meta.version).toBe(live);
    if (latest === undefined) return;

    const wrongKey = snapshotTrust(randomBytes(32).toString('hex'), false);
    const forge = (meta: Partial<AdapterSnapshot['meta']>): AdapterSnapshot => ({ ...latest, meta: { ...latest.meta, ...meta } });
    const oldest = Math.min(...records.keys());
    const forged: Array<[string, Buffer, string]> = [
      // Without the key: an attacker who can write to the topic but holds no key.
      ['unsigned, far-future version and offsets', sealSnapshot(forge({ version: 1e12, offsets: { '0': '1000000000000' } }), { mode: 'insecure' }), 'unsigned'],
      ['signed with another key', sealSnapshot(forge({ version: live + 1 }), wrongKey), 'bad_signature'],
      ['far-future version, another key', sealSnapshot(forge({ version: 1e12 }), wrongKey), 'bad_signature'],
      // With the key (a compromised or misconfigured publisher): the bounds still hold.
      ['an unconfigured variant', sealSnapshot(forge({ variant: 'huge' }), ctx.trust), 'unknown_variant'],
      ['a side table larger than configured', sealSnapshot(await ladderWithCapacity(live + 2, 1500), ctx.trust), 'capacity_exceeded'],
      ['another backbone', sealSnapshot(forge({ version: live + 3, backboneId: 'f'.repeat(64) }), ctx.trust), 'backbone_mismatch'],
      ['an implausible jump ahead', sealSnapshot(forge({ version: live + 1_000_000 }), ctx.trust), 'version_jump'],
      ['a replayed old one (its original bytes)', records.get(oldest) ?? Buffer.alloc(0), 'stale_version'],
    ];
    const before = new Map<string, number>();
    for (const [, , reason] of forged) before.set(reason, await metric(serving.url, `reco_snapshots_refused_total{variant="${reason === 'unknown_variant' ? 'other' : 'ladder'}",reason="${reason}"}`));
    for (const [what, value, reason] of forged) {
      const key = what === 'an unconfigured variant' ? 'huge' : 'ladder';
      await sendWithinLimit(ctx.producer, ctx.topics.adapters, [{ key, value }]);
      const series = `reco_snapshots_refused_total{variant="${key === 'huge' ? 'other' : 'ladder'}",reason="${reason}"}`;
      await until(`${what} refused as ${reason}`, async () => ((await metric(serving.url, series)) > (before.get(reason) ?? 0) ? true : undefined), 20_000).catch(fail);
    }
    for (const [reason, count] of before) expect(await metric(serving.url, `reco_snapshots_refused_total{variant="${reason === 'unknown_variant' ? 'other' : 'ladder'}",reason="${reason}"}`), reason).toBeGreaterThan(count);
    expect(await liveVersion(serving.url, 'ladder')).toBe(live);
    const models = (await (await fetch(`${serving.url}/v1/models`)).json()) as { variants: Array<{ variant: string }> };
    expect(models.variants.map((v) => v.variant)).not.toContain('huge');

    // A restarted updater starts (a wrong-backbone record once stopped it on every restart) and
    // resumes from the last verified snapshot, not from the forged offsets or versions.
    updater = await startService('updater', env).catch(fail);
    const skipped = async (reason: string): Promise<number> => metric(updater?.url ?? '', `reco_updater_snapshots_skipped_total{variant="ladder",reason="${reason}"}`);
    for (const reason of ['unsigned', 'bad_signature', 'backbone_mismatch', 'capacity_exceeded', 'version_jump', 'stale_version']) expect(await skipped(reason), reason).toBeGreaterThan(0);
    await produce(150);
    const resumed = await until('a snapshot after the restart', async () => {
      const s = (await readLatestSnapshots(ctx.kafka, ctx.topics.adapters.name, silentLogger, ctx.resumeCheck)).get('ladder');
      return s && s.meta.examplesTrained >= latest.meta.examplesTrained + 150 ? s : undefined;
    }, 120_000, 250).catch(fail);
    // Numbered on from the live version (the signed far jump is skipped, as serving refuses it),
    // trained on from the verified offsets: nothing twice, nothing skipped.
    expect(resumed.meta.version).toBeLessThan(live + 100);
    expect(resumed.meta.examplesTrained).toBe(latest.meta.examplesTrained + 150);
    const after = await until('serving applies the resumed updater\'s snapshots', async () => {
      const v = await liveVersion(serving.url, 'ladder');
      return v > live ? v : undefined;
    }, 60_000, 250).catch(fail);

    // Rollback, then new clicks: the variant moves forward again.
    await until('a version to roll back to', async () => {
      const body = (await (await fetch(`${serving.url}/v1/models`)).json()) as { variants: Array<{ variant: string; previousVersion: number | null }> };
      return body.variants.find((v) => v.variant === 'ladder')?.previousVersion != null ? true : undefined;
    }, 60_000, 250).catch(fail);
    const rollback = await fetch(`${serving.url}/v1/models/ladder/rollback`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(rollback.status).toBe(200);
    // The rollback is a record of its own (test/rollback-record.e2e.test.ts follows it further).
    const { version: record, rolledBackFrom, restores } = (await rollback.json()) as { version: number; rolledBackFrom: number; restores: number };
    expect(restores).toBeLessThan(rolledBackFrom);
    expect(rolledBackFrom).toBeGreaterThanOrEqual(after);
    expect(record).toBeGreaterThan(rolledBackFrom);
    await produce(150);
    await until('a version past the rollback record', async () => ((await liveVersion(serving.url, 'ladder')) > record ? true : undefined), 120_000, 250).catch(fail);
  }, 600_000);
});
