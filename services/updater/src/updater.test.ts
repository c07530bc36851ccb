import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@reco/data';
import { adaptationOf, Backbone, buildSnapshot, expectationsFor, initBackend, loadCheckpoint, openSnapshot, saveCheckpoint, sealSnapshot, snapshotTrust, TfjsBackboneRunner, type AdapterSnapshot, type LoadedCheckpoint, type SnapshotRefusal } from '@reco/model';
import {
  createKafkaClient,
  encodeEvent,
  ensureTopics,
  readKafkaConfig,
  readToEnd,
  sendWithinLimit,
  silentLogger,
  topicSpecs,
  type Kafka,
  type Producer,
  type RecoEvent,
} from '@reco/stream';
import { testKafkaBrokers, uniqueName } from '@reco/stream/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingSettings, VariantSpec } from './config.js';
import { readLatestSnapshots, type ResumeCheck } from './latest-snapshots.js';
import { createUpdaterMetrics } from './metrics.js';
import { Updater } from './updater.js';
import { VariantTrainer } from './variant-trainer.js';

// A real broker and a small random backbone: the updater's job here is bookkeeping (positions,
// versions, counts, publishing), which does not need a pretrained model.
let kafka: Kafka;
let producer: Producer;
let checkpoint: LoadedCheckpoint;
let dir: string;
const itemIds = Array.from({ length: 40 }, (_, i) => `i${i}`);
// A random backbone on random clicks ranks no better one step than the next: the ranking gate
// and the shadow trial (their own tests are in @reco/model) would refuse at random, and these tests count offsets.
const settings: TrainingSettings = { batchSize: 16, freshPerStep: 8, learningRate: 0.01, publishIntervalMs: 1, publishMaxSteps: 1000, sideCapacity: 16, seed: 3, gateMaxLossIncrease: 0.5, gateMaxRankingDrop: 1, gateShadowClicks: 0, anchorPull: 0 };

const trust = snapshotTrust('7a'.repeat(32), false);
function resumeCheck(onSkip?: ResumeCheck['onSkip']): ResumeCheck {
  const variants = new Map([['ladder', { method: 'ladder' as const, maxSideCapacity: settings.sideCapacity }], ['b', { method: 'bitfit' as const, maxSideCapacity: settings.sideCapacity }]]);
  return { trust, expect: expectationsFor(checkpoint, variants), ...(onSkip ? { onSkip } : {}) };
}

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'reco-updater-test-'));
  const backbone = Backbone.random({ numItems: itemIds.length, dim: 16, blocks: 2, heads: 2, maxLen: 10, ffnDim: 32, layerNormEpsilon: 1e-5 }, createRng(5));
  await saveCheckpoint(dir, backbone, itemIds);
  backbone.dispose();
  checkpoint = await loadCheckpoint(dir);
  kafka = createKafkaClient(readKafkaConfig({ KAFKA_BROKERS: testKafkaBrokers().join(',') }, { defaultClientId: 'updater-test' }), silentLogger);
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  checkpoint?.backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

function clicks(count: number, from: number): RecoEvent[] {
  const rng = createRng(from + 1);
  // Includes one never-seen item, so the side table is exercised too.
  return Array.from({ length: count }, (_, i) => ({
    userId: `u${rng.int(6)}`,
    itemId: i % 17 === 0 ? 'brand-new' : `i${rng.int(itemIds.length)}`,
    type: 'click',
    ts: Date.UTC(2026, 10, 1) + from + i,
  }));
}

async function runUpdater(prefix: string, variants: VariantSpec[], untilExamples: number, options: { sliceEvents?: number } = {}): Promise<Map<string, AdapterSnapshot>> {
  const specs = topicSpecs({ prefix, eventPartitions: 2 });
  const latest = await readLatestSnapshots(kafka, specs.adapters.name, silentLogger, resumeCheck());
  const runner = new TfjsBackboneRunner(checkpoint.backbone);
  const trainers = variants.map((spec) => {
    const resumeFrom = latest.get(spec.name);
    return VariantTrainer.create({ spec, checkpoint, settings, runner, ...(resumeFrom ? { resumeFrom } : {}) });
  });
  const updater = new Updater({ kafka, producer, topics: specs, groupId: `${prefix}group`, variants: trainers, metrics: createUpdaterMetrics({ defaultMetrics: false }), logger: silentLogger, trust, ...options });
  await updater.start();
  const deadline = Date.now() + 60_000;
  while (trainers.some((t) => t.examplesTrained < untilExamples) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await updater.stop();
  trainers.forEach((t) => t.dispose());
  return readLatestSnapshots(kafka, specs.adapters.name, silentLogger, resumeCheck());
}

function opened(value: Buffer): AdapterSnapshot {
  const result = openSnapshot(value, trust);
  if (!result.ok) throw new Error(`published snapshot does not verify: ${result.reason}`);
  return result.snapshot;
}

describe('updater over Kafka', () => {
  it('publishes snapshots with exact counts and positions, and resumes from them without training anything twice', async () => {
    const prefix = `${uniqueName('updater')}.`;
    const specs = topicSpecs({ prefix, eventPartitions: 2 });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [specs.events, specs.deadLetter, specs.adapters]);
    await admin.disconnect();
    const variants: VariantSpec[] = [{ name: 'ladder', method: 'ladder' }, { name: 'b', method: 'bitfit' }];

    const first = clicks(50, 0);
    await sendWithinLimit(producer, specs.events, [
      ...first.map((e) => ({ key: e.userId, value: encodeEvent(e) })),
      { key: 'junk', value: Buffer.from('{"not": "an event"}') },
    ]);
    const afterFirst = await runUpdater(prefix, variants, first.length);
    for (const name of ['ladder', 'b']) {
      const snapshot = afterFirst.get(name);
      expect(snapshot?.meta).toMatchObject({ variant: name, backboneId: checkpoint.backboneId, examplesTrained: 50 });
      const offsets = Object.values(snapshot?.meta.offsets ?? {}).reduce((sum, o) => sum + Number(o), 0);
      expect(offsets).toBe(51); // every message of both partitions, the dead-lettered one included
      expect(snapshot?.tensors.every((t) => t.values.every(Number.isFinite))).toBe(true);
    }
    expect(afterFirst.get('b')?.meta.method).toBe('bitfit');

    const second = clicks(30, 1000);
    await sendWithinLimit(producer, specs.events, second.map((e) => ({ key: e.userId, value: encodeEvent(e) })));
    const afterSecond = await runUpdater(prefix, variants, 80);
    for (const name of ['ladder', 'b']) {
      const before = afterFirst.get(name);
      const after = afterSecond.get(name);
      expect(after?.meta.examplesTrained).toBe(80);
      expect(after?.meta.version).toBeGreaterThan(before?.meta.version ?? Infinity);
      expect(after?.meta.newestEventTs).toBe(Math.max(...second.map((e) => e.ts)));
      // The resumed parameters are the published ones trained further, not a fresh start.
      expect(after?.meta.config).toMatchObject({ sideItemIds: ['brand-new'] });
    }
  });

  it('with a backlog, publishes between slices of one fetched batch, and every such snapshot counts exactly the events before its offsets', async () => {
    const prefix = `${uniqueName('updater-slices')}.`;
    const specs = topicSpecs({ prefix, eventPartitions: 1 });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [specs.events, specs.deadLetter, specs.adapters]);
    await admin.disconnect();
    const events = clicks(120, 0);
    // One produce call: the consumer's first fetch brings the whole backlog as one batch.
    await sendWithinLimit(producer, specs.events, events.map((e) => ({ key: e.userId, value: encodeEvent(e) })));
    await runUpdater(prefix, [{ name: 'ladder', method: 'ladder' }], events.length, { sliceEvents: 20 });

    const published: AdapterSnapshot[] = [];
    await readToEnd(kafka, specs.adapters.name, (message) => void (message.value && published.push(opened(message.value))));
    // Publishing only between fetches would give one snapshot for the batch (plus the final one).
    expect(published.length).toBeGreaterThan(3);
    for (const snapshot of published) {
      const next = Number(snapshot.meta.offsets['0'] ?? 0);
      expect(snapshot.meta.examplesTrained).toBe(next);
    }
    expect(published.map((p) => Number(p.meta.offsets['0']))).toEqual([...published.map((p) => Number(p.meta.offsets['0']))].sort((a, b) => a - b));
    expect(published.at(-1)?.meta.examplesTrained).toBe(events.length);
  });

  it('resumes only from a verified snapshot that fits: forged, unsigned, wrong-backbone and wrong-method records are skipped and counted', async () => {
    const prefix = `${uniqueName('updater-resume')}.`;
    const specs = topicSpecs({ prefix, eventPartitions: 2 });
    const admin = kafka.admin();
    await ensureTopics(admin, [specs.events, specs.deadLetter, specs.adapters]);
    await admin.disconnect();
    const events = clicks(40, 0);
    await sendWithinLimit(producer, specs.events, events.map((e) => ({ key: e.userId, value: encodeEvent(e) })));
    const real = (await runUpdater(prefix, [{ name: 'ladder', method: 'ladder' }], events.length)).get('ladder');
    expect(real?.meta.version).toBeGreaterThan(0);
    if (real === undefined) return;
    const forge = (meta: Partial<AdapterSnapshot['meta']>, with_ = trust): Buffer => sealSnapshot({ ...real, meta: { ...real.meta, ...meta } }, with_);
    const otherKey = snapshotTrust('e1'.repeat(32), false);
    await sendWithinLimit(producer, specs.adapters, [
      { key: 'ladder', value: forge({ version: 1e12, offsets: { '0': '1000000000000', '1': '1000000000000' } }, { mode: 'insecure' }) },
      { key: 'ladder', value: forge({ version: 1e12 + 1 }, otherKey) },
      { key: 'ladder', value: forge({ version: real.meta.version + 5, backboneId: 'f'.repeat(64) }) },
      { key: 'ladder', value: forge({ version: real.meta.version + 6, method: 'bitfit' }) },
      { key: 'ladder', value: Buffer.from('RSNP garbage') },
      { key: 'someone-else', value: forge({ variant: 'someone-else', version: 99 }) },
    ]);
    const skipped: Array<[string, SnapshotRefusal]> = [];
    const latest = await readLatestSnapshots(kafka, specs.adapters.name, silentLogger, resumeCheck((variant, reason) => skipped.push([variant, reason])));
    expect(latest.get('ladder')?.meta).toEqual(real.meta);
    expect(latest.has('someone-else')).toBe(false);
    expect(skipped.sort()).toEqual([
      ['ladder', 'backbone_mismatch'],
      ['ladder', 'bad_signature'],
      ['ladder', 'corrupt'],
      ['ladder', 'method_mismatch'],
      ['ladder', 'unsigned'],
    ]);
    // And the updater starts from it and publishes the next version (it used to refuse to start
    // on the wrong-backbone record, and to train nothing after the forged offsets).
    const more = clicks(20, 1000);
    await sendWithinLimit(producer, specs.events, more.map((e) => ({ key: e.userId, value: encodeEvent(e) })));
    const after = (await runUpdater(prefix, [{ name: 'ladder', method: 'ladder' }], real.meta.examplesTrained + more.length)).get('ladder');
    expect(after?.meta.version).toBeGreaterThan(real.meta.version);
    expect(after?.meta.examplesTrained).toBe(events.length + more.length);
  });

  it('adopts a rollback record: the variant is rebuilt from its parameters, the events after its offsets are trained again, and its snapshots number on after it', async () => {
    const prefix = `${uniqueName('updater-rollback')}.`;
    const specs = topicSpecs({ prefix, eventPartitions: 2 });
    const admin = kafka.admin();
    await ensureTopics(admin, [specs.events, specs.deadLetter, specs.adapters]);
    await admin.disconnect();
    const published = async (): Promise<AdapterSnapshot[]> => {
      const out: AdapterSnapshot[] = [];
      await readToEnd(kafka, specs.adapters.name, (message) => void (message.value && out.push(opened(message.value))));
      return out;
    };
    const until = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const runner = new TfjsBackboneRunner(checkpoint.backbone);
    const spec: VariantSpec = { name: 'ladder', method: 'ladder' };
    const metrics = createUpdaterMetrics({ defaultMetrics: false });
    const updater = new Updater({
      kafka,
      producer,
      topics: specs,
      groupId: `${prefix}group`,
      variants: [VariantTrainer.create({ spec, checkpoint, settings, runner })],
      rollbacks: { watch: { trust, expect: resumeCheck().expect }, rebuild: (s, from, versionFloor) => VariantTrainer.create({ spec: s, checkpoint, settings, runner, resumeFrom: from, versionFloor }) },
      metrics,
      logger: silentLogger,
      trust,
    });
    const produce = async (events: RecoEvent[]) => sendWithinLimit(producer, specs.events, events.map((e) => ({ key: e.userId, value: encodeEvent(e) })));
    const latestWith = (examples: number) => until(`a snapshot of ${examples} examples`, async () => (await published()).find((p) => p.meta.examplesTrained === examples && p.meta.rollback === undefined));
    await updater.start();
    try {
      await produce(clicks(30, 0));
      const restored = await latestWith(30);
      await produce(clicks(30, 1000));
      const withdrawn = await until('the newest snapshot at 60 examples', async () => {
        const all = await published();
        return all.at(-1)?.meta.examplesTrained === 60 && !updater.variants[0]?.publishDue() ? all.at(-1) : undefined;
      });
      const original = updater.variants[0];
      // Serving's rollback route would publish this: the restored snapshot as the newest version.
      const version = withdrawn.meta.version + 1;
      const { method: _m, config: _c, ...stamp } = restored.meta;
      const record = buildSnapshot({ ...stamp, version, publishedAt: Date.now(), rollback: { from: withdrawn.meta.version, restores: restored.meta.version, at: Date.now() } }, adaptationOf(restored));
      await sendWithinLimit(producer, specs.adapters, [{ key: 'ladder', value: sealSnapshot(record, trust) }]);

      // Rebuilt from the record, and the 30 clicks after its offsets trained again into it: a
      // snapshot after the record at 60 examples, with the offsets of every event read.
      const after = await until('a snapshot after the rollback record', async () => (await published()).find((p) => p.meta.version > version && p.meta.examplesTrained === 60));
      expect(after.meta.offsets).toEqual(withdrawn.meta.offsets);
      expect(after.meta.rollback).toBeUndefined();
      expect(updater.variants[0]).not.toBe(original);
      expect(updater.variants[0]?.baseVersion).toBe(version);
      expect((await metrics.registry.getSingleMetricAsString('reco_updater_rollbacks_adopted_total')).split('\n')).toContain('reco_updater_rollbacks_adopted_total{variant="ladder"} 1');
      // New clicks move it forward from there, every count exact.
      await produce(clicks(10, 2000));
      const forward = await latestWith(70);
      expect(forward.meta.version).toBeGreaterThan(after.meta.version);
      const versions = (await published()).map((p) => p.meta.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    } finally {
      await updater.stop();
      updater.variants.forEach((t) => t.dispose());
    }
  }, 120_000);
});
