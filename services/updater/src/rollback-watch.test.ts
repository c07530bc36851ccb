import { createRng } from '@reco/data';
import { Backbone, buildSnapshot, createAdaptation, expectationsFor, initBackend, ItemCatalogue, sealSnapshot, snapshotTrust, type AdapterSnapshot, type RollbackNote, type SerializedAdaptation } from '@reco/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RollbackWatch } from './rollback-watch.js';

const itemIds = Array.from({ length: 20 }, (_, i) => `i${i}`);
const trust = snapshotTrust('3c'.repeat(32), false);
let backbone: Backbone;
let adaptation: SerializedAdaptation;
const backboneId = 'b'.repeat(64);

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  backbone = Backbone.random({ numItems: itemIds.length, dim: 8, blocks: 1, heads: 2, maxLen: 6, ffnDim: 16, layerNormEpsilon: 1e-5 }, createRng(2));
  const method = createAdaptation('ladder', backbone, new ItemCatalogue(itemIds, 4), { seed: 1 });
  adaptation = await method.serialize();
  method.dispose();
});

afterAll(() => backbone?.dispose());

function record(version: number, rollback?: RollbackNote, variant = 'ladder'): AdapterSnapshot {
  return buildSnapshot({ variant, version, backboneId, offsets: { '0': String(version * 10) }, examplesTrained: version * 10, figures: {}, newestEventTs: null, publishedAt: 0, ...(rollback ? { rollback } : {}) }, adaptation);
}

function watch(basis: Map<string, number>): RollbackWatch {
  const expect_ = expectationsFor({ backboneId, itemIds, backbone }, new Map([['ladder', { method: 'ladder' as const, maxSideCapacity: 16 }]]));
  return new RollbackWatch({ trust, expect: expect_, basis: (variant) => basis.get(variant) ?? 0 });
}

const offer = (w: RollbackWatch, snapshot: AdapterSnapshot, with_ = trust) => w.offer(sealSnapshot(snapshot, with_), Buffer.from(snapshot.meta.variant));

describe('which rollback records the updater adopts', () => {
  it('a rollback record the replicas apply is adopted once it is newer than what the parameters came from', () => {
    const basis = new Map([['ladder', 0]]);
    const w = watch(basis);
    expect(offer(w, record(1))).toEqual({ kind: 'seen', variant: 'ladder', version: 1 });
    expect(offer(w, record(2))).toEqual({ kind: 'seen', variant: 'ladder', version: 2 });
    const adopted = offer(w, record(3, { from: 2, restores: 1, at: 5 }));
    expect(adopted).toMatchObject({ kind: 'adopt', variant: 'ladder', version: 3, note: { from: 2, restores: 1, at: 5 } });
    expect(adopted?.kind === 'adopt' ? adopted.snapshot.meta.offsets : undefined).toEqual({ '0': '30' });
    // Even when the updater has meanwhile published past it (its own v4 was built before it read
    // the record): the replicas applied the record, so the restored parameters must win again.
    expect(offer(w, record(4))).toMatchObject({ kind: 'seen', version: 4 });
    expect(offer(w, record(5, { from: 4, restores: 3, at: 6 }))).toMatchObject({ kind: 'adopt', version: 5 });
  });

  it('a record the parameters already come from (a restart resumed from it) or older is only seen', () => {
    const w = watch(new Map([['ladder', 7]]));
    expect(offer(w, record(6, { from: 5, restores: 4, at: 1 }))).toMatchObject({ kind: 'seen', version: 6 });
    expect(offer(w, record(7, { from: 6, restores: 5, at: 2 }))).toMatchObject({ kind: 'seen', version: 7 });
    expect(offer(w, record(8, { from: 7, restores: 6, at: 3 }))).toMatchObject({ kind: 'adopt', version: 8 });
  });

  it('a record the replicas refuse is never adopted: stale (a newer snapshot came first), unsigned, another key, an implausible jump; other services’ variants are not its business', () => {
    const w = watch(new Map([['ladder', 0]]));
    expect(offer(w, record(3))).toMatchObject({ kind: 'seen', version: 3 });
    expect(offer(w, record(3, { from: 2, restores: 1, at: 1 }))).toMatchObject({ kind: 'refused', reason: 'stale_version' });
    expect(offer(w, record(4, { from: 3, restores: 2, at: 1 }), { mode: 'insecure' })).toMatchObject({ kind: 'refused', reason: 'unsigned' });
    expect(offer(w, record(4, { from: 3, restores: 2, at: 1 }), snapshotTrust('9d'.repeat(32), false))).toMatchObject({ kind: 'refused', reason: 'bad_signature' });
    expect(offer(w, record(100_000, { from: 3, restores: 2, at: 1 }))).toMatchObject({ kind: 'refused', reason: 'version_jump' });
    expect(offer(w, record(9, { from: 3, restores: 2, at: 1 }, 'other'))).toBeUndefined();
    expect(w.offer(null, Buffer.from('ladder'))).toBeUndefined();
    // None of them moved the bar: the next real record still counts from v3.
    expect(offer(w, record(4, { from: 3, restores: 2, at: 1 }))).toMatchObject({ kind: 'adopt', version: 4 });
  });
});
