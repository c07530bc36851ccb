import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@reco/stream';
import { frozenModel } from './initial-model.js';
import { LiveModels } from './live-models.js';
import { ServingMetrics } from './metrics.js';
import { sealSnapshot, snapshotTrust, SNAPSHOT_REFUSALS, type AdapterSnapshot } from './model-api.js';
import { configuredBounds, SnapshotApplier } from './snapshot-applier.js';
import { HARNESS_SIDE_CAPACITY, HARNESS_VARIANTS, TEST_TRUST } from './testing/harness.js';
import { makeSnapshot, tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

let backbone: TinyBackbone;
let models: LiveModels;
let metrics: ServingMetrics;
let applier: SnapshotApplier;

const seal = (snapshot: AdapterSnapshot): Buffer => sealSnapshot(snapshot, TEST_TRUST);
const key = (variant = 'ladder'): Buffer => Buffer.from(variant);

beforeAll(async () => {
  backbone = await tinyBackbone();
  models = new LiveModels();
  models.swap(frozenModel(backbone.checkpoint.backbone, backbone.checkpoint.itemIds, backbone.checkpoint.backboneId));
  metrics = new ServingMetrics({ defaultMetrics: false });
  const { backbone: model, itemIds, backboneId } = backbone.checkpoint;
  const variants = await configuredBounds(HARNESS_VARIANTS, model, itemIds, HARNESS_SIDE_CAPACITY);
  applier = new SnapshotApplier({ backbone: model, backboneId, itemIds, models, metrics, logger: silentLogger, trust: TEST_TRUST, variants, maxVersionJump: 100 });
});

afterAll(() => {
  models?.close();
  backbone?.checkpoint.backbone.dispose();
});

async function refusals(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { labels, value } of (await metrics.snapshotsRefused.get()).values) counts.set(`${String(labels.variant)}/${String(labels.reason)}`, value);
  return counts;
}

describe('snapshot applier refusals (every reason has a label)', () => {
  it('refuses each kind of bad message before building anything, counts it by reason, and leaves the variant as it was', async () => {
    const ok = await makeSnapshot(backbone, { version: 1 });
    const otherKey = snapshotTrust(randomBytes(32).toString('hex'), false);
    const truncated = seal(ok).subarray(0, 200);
    const cases: [string, Buffer | null, Buffer | null, string][] = [
      ['tombstone', null, key(), 'corrupt'],
      ['unsigned', sealSnapshot(ok, { mode: 'insecure' }), key(), 'unsigned'],
      ['signed with another key', sealSnapshot(ok, otherKey), key(), 'bad_signature'],
      ['truncated', truncated, key(), 'bad_signature'],
      ['not a snapshot', Buffer.from('RSNP not really a snapshot'), key(), 'corrupt'],
      ['key differs from meta.variant', seal(ok), key('lora'), 'malformed'],
      ['an unconfigured variant', seal({ ...ok, meta: { ...ok.meta, variant: 'huge' } }), key('huge'), 'unknown_variant'],
      ['unknown method', seal({ ...ok, meta: { ...ok.meta, method: 'magic' } }), key(), 'unknown_method'],
      ['a method the variant is not configured with', seal({ ...ok, meta: { ...ok.meta, method: 'bitfit' } }), key(), 'method_mismatch'],
      ['another backbone', seal({ ...ok, meta: { ...ok.meta, backboneId: 'f'.repeat(64) } }), key(), 'backbone_mismatch'],
      ['config missing', seal({ ...ok, meta: { ...ok.meta, config: { options: {} } } }), key(), 'malformed'],
      ['more side items than capacity', seal({ ...ok, meta: { ...ok.meta, config: { ...ok.meta.config, sideItemIds: ['a', 'b', 'c', 'd', 'e'] } } }), key(), 'malformed'],
      ['version 0', seal({ ...ok, meta: { ...ok.meta, version: 0 } }), key(), 'malformed'],
      ['ladder options that differ from the configured ones', seal({ ...ok, meta: { ...ok.meta, config: { ...ok.meta.config, options: { reduction: 2, width: 8, temperature: 0.1 } } } }), key(), 'shape_mismatch'],
      ['a side table shaped unlike its capacity', seal({ ...ok, meta: { ...ok.meta, config: { ...ok.meta.config, sideCapacity: 5 } } }), key(), 'shape_mismatch'],
      ['a NaN', seal(await makeSnapshot(backbone, { version: 1, mutate: (s) => void (s.tensors[0]!.values[3] = Number.NaN) })), key(), 'non_finite'],
      ['a tensor missing', seal(await makeSnapshot(backbone, { version: 1, mutate: (s) => void s.tensors.splice(0, 1) })), key(), 'shape_mismatch'],
    ];
    for (const [what, value, k, reason] of cases) expect(applier.applyMessage(value, k), what).toMatchObject({ applied: false, reason });
    expect(models.current('ladder')).toBeUndefined();
    expect(models.has('huge')).toBe(false);
    const counts = await refusals();
    expect(counts.get('ladder/unsigned')).toBe(1);
    expect(counts.get('ladder/shape_mismatch')).toBe(3);
    // A name from an unverified message is not a label: the set of series stays bounded.
    expect(counts.get('other/unknown_variant')).toBe(1);
    expect([...counts.keys()].every((k) => SNAPSHOT_REFUSALS.includes(k.split('/')[1] as never))).toBe(true);
    expect(applier.applyMessage(seal(ok), key())).toMatchObject({ applied: true, version: 1, previousVersion: undefined });
  });

  it('refuses a side table bigger than configured before allocating it (the snapshot does not size serving)', async () => {
    const huge = await makeSnapshot(backbone, { version: 2, sideCapacity: HARNESS_SIDE_CAPACITY + 1 });
    const refused = applier.applyMessage(seal(huge), key());
    expect(refused).toMatchObject({ applied: false, reason: 'capacity_exceeded' });
    expect(refused.applied ? '' : refused.message).toContain(`at most ${HARNESS_SIDE_CAPACITY}`);
    expect(applier.applyMessage(seal(await makeSnapshot(backbone, { version: 2, sideCapacity: HARNESS_SIDE_CAPACITY })), key())).toMatchObject({ applied: true, version: 2 });
  });

  it('refuses a replayed old version and an implausible jump ahead; later legitimate versions still apply', async () => {
    const live = models.current('ladder')?.meta.version ?? 0;
    expect(live).toBe(2);
    expect(applier.applyMessage(seal(await makeSnapshot(backbone, { version: 1 })), key())).toMatchObject({ applied: false, reason: 'stale_version' });
    expect(applier.applyMessage(seal(await makeSnapshot(backbone, { version: live })), key())).toMatchObject({ applied: false, reason: 'stale_version' });
    expect(applier.applyMessage(seal(await makeSnapshot(backbone, { version: 1e12 })), key())).toMatchObject({ applied: false, reason: 'version_jump' });
    expect(applier.applyMessage(seal(await makeSnapshot(backbone, { version: live + 101 })), key())).toMatchObject({ applied: false, reason: 'version_jump' });
    expect(models.current('ladder')?.meta.version).toBe(2);
    expect(applier.applyMessage(seal(await makeSnapshot(backbone, { version: live + 100 })), key())).toMatchObject({ applied: true, version: 102 });
  });

  it('accepts the first snapshot of a variant at any version (a compacted log starts wherever it starts)', async () => {
    expect(applier.applyMessage(seal(await makeSnapshot(backbone, { version: 5000, variant: 'lora', method: 'lora' })), key('lora'))).toMatchObject({ applied: true, version: 5000 });
  });

  it('in insecure mode reads unsigned messages but keeps every other check', async () => {
    const local = new LiveModels();
    const { backbone: model, itemIds, backboneId } = backbone.checkpoint;
    const variants = await configuredBounds(HARNESS_VARIANTS, model, itemIds, HARNESS_SIDE_CAPACITY);
    const insecure = new SnapshotApplier({ backbone: model, backboneId, itemIds, models: local, metrics, logger: silentLogger, trust: { mode: 'insecure' }, variants, maxVersionJump: 100 });
    try {
      const v1 = await makeSnapshot(backbone, { version: 1 });
      expect(insecure.applyMessage(sealSnapshot({ ...v1, meta: { ...v1.meta, variant: 'huge' } }, { mode: 'insecure' }), key('huge'))).toMatchObject({ applied: false, reason: 'unknown_variant' });
      expect(insecure.applyMessage(sealSnapshot(v1, { mode: 'insecure' }), key())).toMatchObject({ applied: true, version: 1 });
    } finally {
      local.close();
    }
  });
});
