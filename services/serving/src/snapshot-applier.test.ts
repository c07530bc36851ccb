import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnapshot, silentLogger } from '@reco/stream';
import { frozenModel } from './initial-model.js';
import { LiveModels } from './live-models.js';
import { ServingMetrics } from './metrics.js';
import { SnapshotApplier } from './snapshot-applier.js';
import { makeSnapshot, tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

let backbone: TinyBackbone;
let models: LiveModels;
let applier: SnapshotApplier;

beforeAll(async () => {
  backbone = await tinyBackbone();
  models = new LiveModels();
  models.swap(frozenModel(backbone.checkpoint.backbone, backbone.checkpoint.itemIds, backbone.checkpoint.backboneId));
  applier = new SnapshotApplier({ ...backbone.checkpoint, models, metrics: new ServingMetrics({ defaultMetrics: false }), logger: silentLogger });
});

afterAll(() => {
  models?.close();
  backbone?.checkpoint.backbone.dispose();
});

describe('snapshot applier refusals (every reason has a label)', () => {
  it('names what is wrong before building anything', async () => {
    const ok = await makeSnapshot(backbone, { version: 1 });
    const cases: [string, Parameters<SnapshotApplier['applyMessage']>, string][] = [
      ['tombstone', [null, Buffer.from('ladder')], 'corrupt'],
      ['key differs from meta.variant', [encodeSnapshot(ok), Buffer.from('lora')], 'malformed'],
      ['unknown method', [encodeSnapshot({ ...ok, meta: { ...ok.meta, method: 'magic' } }), null], 'unknown_method'],
      ['config missing', [encodeSnapshot({ ...ok, meta: { ...ok.meta, config: { options: {} } } }), null], 'malformed'],
      ['more side items than capacity', [encodeSnapshot({ ...ok, meta: { ...ok.meta, config: { ...ok.meta.config, sideItemIds: ['a', 'b', 'c', 'd', 'e'] } } }), null], 'malformed'],
      ['version 0', [encodeSnapshot({ ...ok, meta: { ...ok.meta, version: 0 } }), null], 'malformed'],
      ['ladder options that do not match the tensors', [encodeSnapshot({ ...ok, meta: { ...ok.meta, config: { ...ok.meta.config, options: { reduction: 2, width: 8, temperature: 0.1 } } } }), null], 'shape_mismatch'],
    ];
    for (const [what, args, reason] of cases) expect(applier.applyMessage(...args), what).toMatchObject({ applied: false, reason });
    expect(models.current('ladder')).toBeUndefined();
    expect(applier.applyMessage(encodeSnapshot(ok), Buffer.from('ladder'))).toMatchObject({ applied: true, version: 1, previousVersion: undefined });
  });
});
