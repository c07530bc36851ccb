import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankingMismatch } from '@reco/model/testing';
import { LiveModel } from './live-model.js';
import { adaptationOf, restoreAdaptation, type AdapterSnapshot } from './model-api.js';
import { recommendFromHistory, type ScoredItem } from './recommender.js';
import { startHarness, until, type Harness } from './testing/harness.js';
import { makeSnapshot, tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

let backbone: TinyBackbone;

beforeAll(async () => {
  backbone = await tinyBackbone();
});

afterAll(() => backbone?.checkpoint.backbone.dispose());

interface Answer {
  variant: string;
  version: number;
  items: ScoredItem[];
}

async function ask(h: Harness, history: string[], variant = 'ladder'): Promise<Answer> {
  const res = await h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u-snap', variant, k: 10, history } });
  expect(res.statusCode).toBe(200);
  return res.json<Answer>();
}

async function liveVersion(h: Harness, variant = 'ladder'): Promise<number | undefined> {
  const res = await h.app.inject({ url: '/v1/models' });
  return res.json<{ variants: { variant: string; version: number }[] }>().variants.find((v) => v.variant === variant)?.version;
}

/**
 * Scores a history offline: a fresh method restored from the snapshot, scored through TF.js (the
 * model package's own path). Serving answers through ONNX Runtime and plain arrays, so the two
 * agree within float noise (rankingMismatch), not bit for bit.
 */
async function offline(snapshot: AdapterSnapshot, history: string[], k = 10): Promise<ScoredItem[]> {
  const { backbone: model, itemIds } = backbone.checkpoint;
  const live = new LiveModel({ ...snapshot.meta, publishedAt: snapshot.meta.publishedAt, appliedAt: 0 }, restoreAdaptation(adaptationOf(snapshot), model, itemIds));
  try {
    return await recommendFromHistory(live, history, k, history);
  } finally {
    live.retire();
  }
}

const HISTORY = ['item-1', 'item-2', 'item-3'];

describe('snapshot consumer', () => {
  it('a snapshot published to the adapters topic becomes live; the answering version moves forward and the scores change', async () => {
    const h = await startHarness(backbone, { consumeSnapshots: true });
    try {
      await h.snapshots?.whenCaughtUp;
      const frozen = await ask(h, HISTORY, 'frozen');
      const v1 = await makeSnapshot(backbone, { version: 1 });
      await h.publish(v1);
      await until(async () => ((await liveVersion(h)) === 1 ? true : undefined), 10_000, 'v1 live');
      const a1 = await ask(h, HISTORY);
      expect(a1).toMatchObject({ variant: 'ladder', version: 1 });
      expect(rankingMismatch(a1.items, await offline(v1, HISTORY))).toBeUndefined();
      expect(a1.items).not.toEqual(frozen.items);

      const v2 = await makeSnapshot(backbone, { version: 2, sideItems: ['brand-new-item'] });
      await h.publish(v2);
      await until(async () => ((await liveVersion(h)) === 2 ? true : undefined), 10_000, 'v2 live');
      const a2 = await ask(h, HISTORY);
      expect(a2.version).toBe(2);
      expect(rankingMismatch(a2.items, await offline(v2, HISTORY))).toBeUndefined();
      expect(a2.items.map((i) => i.score)).not.toEqual(a1.items.map((i) => i.score));

      const metrics = (await h.app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/^reco_snapshots_applied_total\{variant="ladder"\} 2$/m);
      expect(metrics).toMatch(/^reco_live_version\{variant="ladder"\} 2$/m);
      expect(metrics).toMatch(/^reco_snapshot_freshness_seconds_count\{variant="ladder"\} 2$/m);
      expect(metrics).toMatch(/^reco_snapshots_caught_up 1$/m);
      expect(metrics).toMatch(/^reco_consumer_lag\{service="serving",topic="[^"]+\.reco\.adapters",partition="0"\} 0$/m);
    } finally {
      await h.close();
    }
  });

  it('refuses NaN, another backbone, an older version, a corrupt message and wrong shapes; the previous version keeps answering', async () => {
    const h = await startHarness(backbone, { consumeSnapshots: true });
    try {
      const v5 = await makeSnapshot(backbone, { version: 5 });
      await h.publish(v5);
      await until(async () => ((await liveVersion(h)) === 5 ? true : undefined), 10_000, 'v5 live');
      const before = await ask(h, HISTORY);

      await h.publish(await makeSnapshot(backbone, { version: 6, mutate: (s) => void (s.tensors[0]!.values[3] = Number.NaN) }));
      await h.publish(await makeSnapshot(backbone, { version: 7, backboneId: 'f'.repeat(64) }));
      await h.publish(await makeSnapshot(backbone, { version: 4 }));
      await h.publish(await makeSnapshot(backbone, { version: 8, mutate: (s) => void s.tensors.splice(0, 1) }));
      await h.publisher.send({ topic: h.topics.adapters.name, messages: [{ key: 'ladder', value: Buffer.from('RSNP not really a snapshot') }] });

      const expected = ['non_finite', 'backbone_mismatch', 'stale_version', 'shape_mismatch', 'corrupt'];
      const metrics = await until(
        async () => {
          const body = (await h.app.inject({ url: '/metrics' })).body;
          return expected.every((reason) => new RegExp(`^reco_snapshots_refused_total\\{variant="ladder",reason="${reason}"\\} 1$`, 'm').test(body)) ? body : undefined;
        },
        10_000,
        'five refusals in /metrics',
      );
      expect(metrics).toMatch(/^reco_live_version\{variant="ladder"\} 5$/m);
      const after = await ask(h, HISTORY);
      expect(after).toEqual(before);
      expect(await liveVersion(h)).toBe(5);
    } finally {
      await h.close();
    }
  });

  it('catches up with snapshots published before it started, and is ready only then', async () => {
    let last: AdapterSnapshot | undefined;
    let lora: AdapterSnapshot | undefined;
    const h = await startHarness(backbone, {
      consumeSnapshots: true,
      beforeConsumers: async (harness) => {
        for (const version of [1, 2, 3]) await harness.publish((last = await makeSnapshot(backbone, { version })));
        await harness.publish((lora = await makeSnapshot(backbone, { version: 1, variant: 'lora', method: 'lora' })));
      },
    });
    try {
      await h.snapshots?.whenCaughtUp;
      expect(h.snapshots?.caughtUp).toBe(true);
      expect(h.models.current('ladder')?.meta.version).toBe(3);
      expect(h.models.current('lora')?.meta.method).toBe('lora');
      expect(rankingMismatch((await ask(h, HISTORY)).items, await offline(last!, HISTORY))).toBeUndefined();
      // Variants of different methods are live side by side, each answering with its own.
      const byLora = await ask(h, HISTORY, 'lora');
      expect(byLora).toMatchObject({ variant: 'lora', version: 1 });
      expect(rankingMismatch(byLora.items, await offline(lora!, HISTORY))).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});

describe('swap under load', () => {
  it('>= 20 swaps under concurrent requests: zero non-2xx, every answer equals the offline scores of the version it names, no tensor leaks', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const h = await startHarness(backbone, { consumeSnapshots: true });
    const snapshots = new Map<number, AdapterSnapshot>();
    const histories = [HISTORY, ['item-10'], ['item-20', 'item-21', 'item-22', 'item-23'], ['item-5', 'item-50']];
    const answers: { history: string[]; status: number; body: Answer }[] = [];
    try {
      await h.snapshots?.whenCaughtUp;
      snapshots.set(1, await makeSnapshot(backbone, { version: 1 }));
      await h.publish(snapshots.get(1)!);
      await until(async () => ((await liveVersion(h)) === 1 ? true : undefined), 10_000, 'v1 live');

      const last = 24;
      let publishing = true;
      // Half the workers go through a real socket, half through inject: both paths must hold.
      const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
      const post = async (payload: object): Promise<{ status: number; body: Answer }> => {
        const res = await fetch(`${address}/v1/recommendations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
        return { status: res.status, body: (await res.json()) as Answer };
      };
      const inject = async (payload: object): Promise<{ status: number; body: Answer }> => {
        const res = await h.app.inject({ method: 'POST', url: '/v1/recommendations', payload });
        return { status: res.statusCode, body: res.json<Answer>() };
      };
      const load = async (worker: number): Promise<void> => {
        // At least five requests each, and three more once the last version is live: a loaded
        // machine may take until the last swap for the first few, so those alone cannot prove it.
        for (let i = 0, after = 0; publishing || i < 5 || after++ < 3; i++) {
          const history = histories[(worker + i) % histories.length]!;
          const payload = { userId: `load-${worker}`, variant: 'ladder', k: 10, history };
          const { status, body } = worker % 2 === 0 ? await post(payload) : await inject(payload);
          answers.push({ history, status, body });
          // Let Kafka's socket callbacks (and so the swaps) run between requests.
          await new Promise((r) => setImmediate(r));
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => load(w));
      for (let version = 2; version <= last; version++) {
        const snapshot = await makeSnapshot(backbone, { version });
        snapshots.set(version, snapshot);
        await h.publish(snapshot);
        await new Promise((r) => setTimeout(r, 25));
      }
      await until(async () => ((await liveVersion(h)) === last ? true : undefined), 15_000, `v${last} live`);
      publishing = false;
      await Promise.all(workers);

      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      const versions = new Set(answers.map((a) => a.body.version));
      expect(versions.size).toBeGreaterThanOrEqual(5);
      expect(versions.has(last)).toBe(true);
      const expected = new Map<string, ScoredItem[]>();
      const expectedOf = async (version: number, history: string[]): Promise<ScoredItem[]> => {
        const key = `${version}|${history.join(',')}`;
        if (!expected.has(key)) expected.set(key, await offline(snapshots.get(version)!, history));
        return expected.get(key)!;
      };
      for (const a of answers) {
        expect(rankingMismatch(a.body.items, await expectedOf(a.body.version, a.history))).toBeUndefined();
        // The tolerance must not blur versions: the previous version's answer is told apart.
        if (snapshots.has(a.body.version - 1)) expect(rankingMismatch(a.body.items, await expectedOf(a.body.version - 1, a.history))).toBeDefined();
      }
      const metrics = (await h.app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(new RegExp(`^reco_swaps_total\\{variant="ladder",kind="snapshot"\\} ${last}$`, 'm'));
      console.log(`[swap under load] ${answers.length} requests over ${last} swaps, ${versions.size} versions answered`, metrics.match(/^reco_models_disposed_total.*$/gm));
    } finally {
      await h.close();
    }
    // Every retired version, the previous one and the current one were disposed on close.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
