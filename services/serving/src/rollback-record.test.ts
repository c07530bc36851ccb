import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToEnd, silentLogger } from '@reco/stream';
import { uniqueName } from '@reco/stream/testing';
import { rankingMismatch } from '@reco/model/testing';
import { ServingError } from './errors.js';
import { LiveModel } from './live-model.js';
import { LiveModels } from './live-models.js';
import { ServingMetrics } from './metrics.js';
import { adaptationOf, openSnapshot, restoreAdaptation, type AdapterSnapshot, type SnapshotTrust } from './model-api.js';
import { recommendFromHistory, type ScoredItem } from './recommender.js';
import { RollbackRecords } from './rollback-record.js';
import { startSnapshotConsumer } from './snapshot-consumer.js';
import { ADMIN_TOKEN, harnessApplier, startHarness, TEST_TRUST, until, type Harness } from './testing/harness.js';
import { makeSnapshot, tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

// The rollback route against a real broker: its record goes through reco.adapters and comes back
// through the replica's own snapshot consumer, as it does on every other replica.
let backbone: TinyBackbone;

beforeAll(async () => {
  backbone = await tinyBackbone();
});

afterAll(() => backbone?.checkpoint.backbone.dispose());

const HISTORY = ['item-1', 'item-2', 'item-3'];
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function live(h: Harness): Promise<{ version: number; previousVersion: number | null; offsets: Record<string, string>; examplesTrained: number } | undefined> {
  const body = (await h.app.inject({ url: '/v1/models' })).json<{ variants: Array<{ variant: string; version: number; previousVersion: number | null; offsets: Record<string, string>; examplesTrained: number }> }>();
  return body.variants.find((v) => v.variant === 'ladder');
}

async function publishAndWait(h: Harness, snapshot: AdapterSnapshot): Promise<void> {
  await h.publish(snapshot);
  await until(async () => ((await live(h))?.version === snapshot.meta.version ? true : undefined), 10_000, `v${snapshot.meta.version} live`);
}

/** Scores a history with a fresh method restored from the snapshot (the model package's path). */
async function offline(snapshot: AdapterSnapshot): Promise<ScoredItem[]> {
  const { backbone: model, itemIds } = backbone.checkpoint;
  const model_ = new LiveModel({ ...snapshot.meta, appliedAt: 0 }, restoreAdaptation(adaptationOf(snapshot), model, itemIds));
  try {
    return await recommendFromHistory(model_, HISTORY, 10, HISTORY);
  } finally {
    model_.retire();
  }
}

async function records(h: Harness, trust: SnapshotTrust = TEST_TRUST): Promise<AdapterSnapshot[]> {
  const out: AdapterSnapshot[] = [];
  await readToEnd(h.kafka, h.topics.adapters.name, (message) => {
    const opened = openSnapshot(message.value, trust);
    if (opened.ok) out.push(opened.snapshot);
  });
  return out;
}

/** A second replica's registry and applier on the same topic, whose snapshot consumer the test starts when it wants. */
async function otherReplica(h: Harness): Promise<{ models: LiveModels; metrics: ServingMetrics; applier: Awaited<ReturnType<typeof harnessApplier>> }> {
  const models = new LiveModels();
  const metrics = new ServingMetrics({ defaultMetrics: false });
  return { models, metrics, applier: await harnessApplier({ models, metrics, engine: h.engine }, backbone) };
}

describe('rollback records', () => {
  it('the route publishes the previous version again as the newest, signed; this replica applies it from the topic and answers as that version did', async () => {
    const h = await startHarness(backbone, { consumeSnapshots: true });
    try {
      const v1 = await makeSnapshot(backbone, { version: 1 });
      await publishAndWait(h, v1);
      await publishAndWait(h, await makeSnapshot(backbone, { version: 2 }));
      const before = Date.now();
      const res = await h.app.inject({ method: 'POST', url: '/v1/models/ladder/rollback', headers: auth });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ variant: 'ladder', version: 3, rolledBackFrom: 2, restores: 1 });
      // What answers is v1's parameters and position under the record's version.
      expect(await live(h)).toMatchObject({ version: 3, previousVersion: null, offsets: v1.meta.offsets, examplesTrained: v1.meta.examplesTrained });
      const answer = (await h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u-rb', variant: 'ladder', k: 10, history: HISTORY } })).json<{ version: number; items: ScoredItem[] }>();
      expect(answer.version).toBe(3);
      expect(rankingMismatch(answer.items, await offline(v1))).toBeUndefined();

      // On the topic: v1's tensors and meta, the record's version, the note; signed with the shared key.
      const record = (await records(h)).at(-1);
      expect(record?.meta).toMatchObject({ variant: 'ladder', version: 3, offsets: v1.meta.offsets, examplesTrained: v1.meta.examplesTrained, figures: v1.meta.figures, config: v1.meta.config });
      expect(record?.meta.rollback).toMatchObject({ from: 2, restores: 1 });
      expect(record?.meta.rollback?.at).toBeGreaterThanOrEqual(before);
      expect(record?.tensors.map((t) => [t.name, [...t.values]])).toEqual(v1.tensors.map((t) => [t.name, [...t.values]]));

      // Nothing left to roll back to (v2 is withdrawn, not kept); the next snapshot moves on from v3.
      expect((await h.app.inject({ method: 'POST', url: '/v1/models/ladder/rollback', headers: auth })).json()).toMatchObject({ code: 'RECO_ERR_NO_PREVIOUS_VERSION' });
      await publishAndWait(h, await makeSnapshot(backbone, { version: 4 }));
      expect(await live(h)).toMatchObject({ version: 4, previousVersion: 3 });
      const metrics = (await h.app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/^reco_swaps_total\{variant="ladder",kind="rollback"\} 1$/m);
      expect(metrics).toMatch(/^reco_snapshots_applied_total\{variant="ladder"\} 4$/m);
    } finally {
      await h.close();
    }
  });

  it('a newer snapshot that reaches the topic first wins: the record is refused as stale everywhere and the caller gets 409 RECO_ERR_ROLLBACK_SUPERSEDED', async () => {
    const h = await startHarness(backbone, { consumeSnapshots: true });
    const b = await otherReplica(h);
    let stopB: (() => Promise<void>) | undefined;
    try {
      const v1 = await makeSnapshot(backbone, { version: 1 });
      const v2 = await makeSnapshot(backbone, { version: 2 });
      await publishAndWait(h, v1);
      await publishAndWait(h, v2);
      // Replica b has v1 and v2 but has not read the updater's v3 yet when it is asked to roll back.
      expect(b.applier.apply(v1)).toMatchObject({ applied: true });
      expect(b.applier.apply(v2)).toMatchObject({ applied: true });
      await publishAndWait(h, await makeSnapshot(backbone, { version: 3 }));
      const rollbacks = new RollbackRecords({ models: b.models, producer: h.publisher, adapters: h.topics.adapters, trust: TEST_TRUST, applier: b.applier, timeoutMs: 20_000 });
      const pending = rollbacks.rollback('ladder');
      pending.catch(() => undefined);
      // Its record (also v3) lands after the updater's v3; then b's consumer reads the log in order.
      await until(async () => ((await records(h)).filter((r) => r.meta.version === 3).length === 2 ? true : undefined), 10_000, 'both v3 records on the topic');
      const consumer = await startSnapshotConsumer({ kafka: h.kafka, adapters: h.topics.adapters, groupId: uniqueName('replica-b'), applier: b.applier, metrics: b.metrics, logger: silentLogger });
      stopB = () => consumer.stop();
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ServingError);
      expect(error).toMatchObject({ code: 'RECO_ERR_ROLLBACK_SUPERSEDED', statusCode: 409 });
      // Both replicas answer with the updater's v3, and each refused the record as stale.
      expect(b.models.current('ladder')?.source?.meta.rollback).toBeUndefined();
      await until(async () => (/^reco_snapshots_refused_total\{variant="ladder",reason="stale_version"\} 1$/m.test((await h.app.inject({ url: '/metrics' })).body) ? true : undefined), 10_000, 'the record refused by replica a');
      expect(h.models.current('ladder')?.meta.version).toBe(3);
      expect(h.models.current('ladder')?.source?.meta.rollback).toBeUndefined();
    } finally {
      await stopB?.();
      b.models.close();
      await h.close();
    }
  });

  it('a broker that does not acknowledge is a 503 and nothing changes; a record this replica never applies is a 504; insecure mode publishes it unsigned', async () => {
    const h = await startHarness(backbone, { consumeSnapshots: true });
    const b = await otherReplica(h);
    try {
      await publishAndWait(h, await makeSnapshot(backbone, { version: 1 }));
      await publishAndWait(h, await makeSnapshot(backbone, { version: 2 }));

      // Replica b without a snapshot consumer: its record is published but never comes back to it.
      b.applier.apply(await makeSnapshot(backbone, { version: 1 }));
      b.applier.apply(await makeSnapshot(backbone, { version: 2 }));
      const insecure = new RollbackRecords({ models: b.models, producer: h.publisher, adapters: h.topics.adapters, trust: { mode: 'insecure' }, applier: b.applier, timeoutMs: 300 });
      await expect(insecure.rollback('ladder')).rejects.toMatchObject({ code: 'RECO_ERR_ROLLBACK_TIMEOUT', statusCode: 504 });
      expect(b.models.current('ladder')?.meta.version).toBe(2);
      const unsigned = (await records(h, { mode: 'insecure' })).at(-1);
      expect(unsigned?.meta.rollback).toMatchObject({ from: 2, restores: 1 });
      // Replica a verifies with the key: the unsigned record is refused, v2 keeps answering.
      await until(async () => (/^reco_snapshots_refused_total\{variant="ladder",reason="unsigned"\} 1$/m.test((await h.app.inject({ url: '/metrics' })).body) ? true : undefined), 10_000, 'the unsigned record refused');

      await h.producer.disconnect();
      const res = await h.app.inject({ method: 'POST', url: '/v1/models/ladder/rollback', headers: auth });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'RECO_ERR_KAFKA_UNAVAILABLE' });
      expect(await live(h)).toMatchObject({ version: 2, previousVersion: 1 });
    } finally {
      b.models.close();
      await h.close();
    }
  });
});
