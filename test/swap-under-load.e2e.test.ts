import * as tf from '@tensorflow/tfjs-core';
import { adaptationOf, encodeSequences, initBackend, PAD_ID, restoreAdaptation, topK, UNK_ID, type AdapterSnapshot } from '@reco/model';
import { rankingMismatch } from '@reco/model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';
import { createE2eContext, liveVersion, until, type E2eContext } from './harness/e2e-context.js';
import { ladderSnapshot } from './harness/snapshots.js';

interface Answer {
  status: number;
  history: number;
  version: number;
  items: { itemId: string; score: number }[];
}

let ctx: E2eContext;
let serving: ServiceProcess;

beforeAll(async () => {
  ctx = await createE2eContext('swap');
  serving = await startService('serving', { ...ctx.env, RECO_DEFAULT_VARIANT: 'ladder' });
  await initBackend({ log: () => undefined });
});

afterAll(async () => {
  await serving?.stop();
  await ctx?.close();
});

/**
 * What the named snapshot must answer, computed here from the published bytes with the model
 * package through TF.js. Serving runs ONNX Runtime and plain arrays, so answers agree within
 * float noise (rankingMismatch), and each test also checks the previous version is told apart.
 */
async function offline(snapshot: AdapterSnapshot, history: readonly string[], k: number): Promise<{ itemId: string; score: number }[]> {
  const { backbone, itemIds } = ctx.fixture.checkpoint;
  const method = restoreAdaptation(adaptationOf(snapshot), backbone, itemIds);
  try {
    const slots = history.map((id) => method.catalogue.slotOf(id) ?? UNK_ID);
    const input = await method.prepare(encodeSequences([slots], method.catalogue, backbone.config.maxLen));
    const scores = tf.tidy(() => method.scores(input));
    input.dispose();
    const data = (await scores.data()) as Float32Array;
    scores.dispose();
    const seen = new Set<number>([PAD_ID, UNK_ID, ...slots]);
    return [...topK(data, k, seen)].map((slot) => ({ itemId: method.catalogue.itemIdOf(slot) ?? '?', score: data[slot] ?? Number.NaN }));
  } finally {
    method.dispose();
  }
}


describe('hot-swap under load', () => {
  it('during 24 swaps under concurrent requests: no non-2xx, and every answer is exactly the named version\'s', async () => {
    const { world, checkpoint } = ctx.fixture;
    const users = world.usersInGroup(0).slice(0, 4);
    const histories = users.map((u) => world.pretrainLog.filter((e) => e.userId === u).slice(-10).map((e) => e.itemId));
    const snapshots = new Map<number, AdapterSnapshot>();
    const publish = async (version: number): Promise<void> => {
      const snapshot = await ladderSnapshot(checkpoint, version, 0.05);
      snapshots.set(version, snapshot);
      await ctx.publishSnapshot(snapshot);
    };
    await publish(1);
    await until('version 1 live', async () => ((await liveVersion(serving.url, 'ladder')) === 1 ? true : undefined));

    const answers: Answer[] = [];
    let running = true;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; running; i += 1) {
        const h = (w + i) % histories.length;
        const response = await fetch(`${serving.url}/v1/recommendations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: users[h], history: histories[h], k: 10, variant: 'ladder' }),
        });
        const body = (await response.json()) as { version: number; items: { itemId: string; score: number }[] };
        answers.push({ status: response.status, history: h, version: body.version, items: body.items });
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    for (let version = 2; version <= 25; version += 1) {
      await publish(version);
      await new Promise((r) => setTimeout(r, 60));
    }
    await until('the last version live', async () => ((await liveVersion(serving.url, 'ladder')) === 25 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    await Promise.all(workers);

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const versions = new Set(answers.map((a) => a.version));
    console.info(`${answers.length} answers during 24 swaps, from ${versions.size} distinct versions`);
    expect(versions.size).toBeGreaterThan(5);
    const metrics = await (await fetch(`${serving.url}/metrics`)).text();
    const swaps = [...metrics.matchAll(/^reco_swaps_total\{[^}]*variant="ladder"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(swaps).toBeGreaterThanOrEqual(24);

    const expected = new Map<string, { itemId: string; score: number }[]>();
    for (const answer of answers) {
      const key = `${answer.version}/${answer.history}`;
      const snapshot = snapshots.get(answer.version);
      expect(snapshot, `version ${answer.version} was published by this test`).toBeDefined();
      if (!expected.has(key) && snapshot) expected.set(key, await offline(snapshot, histories[answer.history] ?? [], 10));
      expect(rankingMismatch(answer.items, expected.get(key) ?? [])).toBeUndefined();
      const previousKey = `${answer.version - 1}/${answer.history}`;
      const previous = snapshots.get(answer.version - 1);
      if (!expected.has(previousKey) && previous) expected.set(previousKey, await offline(previous, histories[answer.history] ?? [], 10));
      if (previous) expect(rankingMismatch(answer.items, expected.get(previousKey) ?? [])).toBeDefined();
    }
  }, 120_000);
});
