import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdaptationMethod, MethodName } from './adaptation/adaptation-method.js';
import { createAdaptation, restoreAdaptation } from './adaptation/create-adaptation.js';
import { ItemCatalogue } from './item-catalogue.js';
import { OnlineTrainer } from './online-trainer.js';
import { encodeSequences } from './sequence-batch.js';
import { type SmallFixture, smallWorldFixture } from './testing/small-world-fixture.js';

let fixture: SmallFixture;

beforeAll(async () => {
  fixture = await smallWorldFixture();
}, 180_000);

afterAll(() => fixture.checkpoint.backbone.dispose());

function setup(name: MethodName, options: Partial<ConstructorParameters<typeof OnlineTrainer>[0]> = {}) {
  const { backbone, itemIds, backboneId } = fixture.checkpoint;
  const catalogue = new ItemCatalogue(itemIds, 32);
  const method = createAdaptation(name, backbone, catalogue, { seed: 4 });
  const trainer = new OnlineTrainer({ method, backboneId, batchSize: 16, freshPerStep: 8, seed: 5, ...options });
  trainer.seedHistories(fixture.world.pretrainLog);
  return { catalogue, method, trainer };
}

/** Feeds stream events from `from` until `steps` more training steps have run; returns the next index. */
async function trainSteps(trainer: OnlineTrainer, steps: number, from = 0): Promise<number> {
  const target = trainer.steps + steps;
  let i = from;
  const stream = fixture.world.stream;
  while (trainer.steps < target) {
    trainer.observe(stream[i % stream.length] ?? (stream[0] as (typeof stream)[number]));
    i++;
    if (trainer.backlog >= 8) await trainer.trainStep();
  }
  return i;
}

async function scoresOf(method: AdaptationMethod, histories: number[][]): Promise<Float32Array> {
  const input = await method.prepare(encodeSequences(histories, method.catalogue, method.backbone.config.maxLen));
  const scores = tf.tidy(() => method.scores(input));
  input.dispose();
  const data = (await scores.data()) as Float32Array;
  scores.dispose();
  return data;
}

describe('OnlineTrainer', () => {
  it.each(['ladder', 'lora', 'prompt'] as const)('%s: a snapshot restores bit-exactly, tensors and scores', async (name) => {
    const { method, trainer } = setup(name);
    await trainSteps(trainer, 40, 1500);
    const snapshot = await trainer.snapshot();
    expect(snapshot.backboneId).toBe(fixture.checkpoint.backboneId);
    expect(snapshot.adaptation.sideItemIds.length).toBeGreaterThan(0);
    const restored = restoreAdaptation(snapshot.adaptation, fixture.checkpoint.backbone, fixture.checkpoint.itemIds);
    const again = await restored.serialize();
    expect(again.tensors.map((t) => t.name)).toEqual(snapshot.adaptation.tensors.map((t) => t.name));
    again.tensors.forEach((t, i) => expect(Buffer.from(t.values.buffer).equals(Buffer.from(snapshot.adaptation.tensors[i]?.values.buffer ?? new ArrayBuffer(0)))).toBe(true));
    const users = ['u1', 'u2', 'u3', 'u4'].map((u) => trainer.userHistory(u));
    const a = await scoresOf(method, users);
    const b = await scoresOf(restored, users);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    restored.dispose();
    trainer.dispose();
    method.dispose();
  });

  it('refuses a snapshot with a wrong shape or a non-finite value, leaving the method untouched', async () => {
    const { method, trainer } = setup('ladder');
    await trainSteps(trainer, 5);
    const good = await method.serialize();
    const nan = { ...good, tensors: good.tensors.map((t, i) => (i === 0 ? { ...t, values: t.values.map((v, j) => (j === 3 ? Number.NaN : v)) } : t)) };
    expect(() => method.load(nan)).toThrow(/NaN at index 3/);
    const bad = { ...good, tensors: good.tensors.map((t, i) => (i === 0 ? { ...t, shape: [1, t.values.length] } : t)) };
    expect(() => method.load(bad)).toThrow(/shape/);
    expect(() => method.load({ ...good, method: 'lora' })).toThrow(/method lora/);
    const after = await method.serialize();
    after.tensors.forEach((t, i) => expect(Array.from(t.values)).toEqual(Array.from(good.tensors[i]?.values ?? [])));
    trainer.dispose();
    method.dispose();
  });

  it.each(['ladder', 'lora'] as const)('%s: no tensor leak across 100 train steps and 100 forwards', async (name) => {
    const { method, trainer } = setup(name);
    let next = await trainSteps(trainer, 5);
    const before = tf.memory().numTensors;
    next = await trainSteps(trainer, 100, next);
    expect(tf.memory().numTensors).toBe(before);
    const histories = ['u1', 'u2', 'u3'].map((u) => trainer.userHistory(u));
    for (let i = 0; i < 100; i++) await scoresOf(method, histories);
    expect(tf.memory().numTensors).toBe(before);
    void next;
    trainer.dispose();
    method.dispose();
  }, 60_000);

  it("counts the publish interval from an attempt's start, so the gate's own time does not push every later publish back", async () => {
    // A clock that moves 300 ms whenever it is read: the attempt's own work takes time.
    let now = 0;
    const clock = (): number => {
      const t = now;
      now += 300;
      return t;
    };
    const { method, trainer } = setup('ladder', { publishPolicy: { intervalMs: 1000, maxSteps: 1e6 }, gate: { maxLossIncrease: 10 }, holdoutEvery: 5, now: clock });
    let next = await trainSteps(trainer, 5);
    now = 10_000;
    expect(await trainer.maybePublish()).toMatchObject({ published: true });
    next = await trainSteps(trainer, 2, next);
    // One interval after the attempt began, whatever the clock read after it, the next is due.
    now = 11_000;
    expect(trainer.publishDue()).toBe(true);
    now = 10_900;
    expect(trainer.publishDue()).toBe(false);
    void next;
    trainer.dispose();
    method.dispose();
  }, 60_000);

  it('publishes after maxSteps only when the gate accepts, with a monotonic version', async () => {
    let now = 0;
    const { method, trainer } = setup('ladder', {
      publishPolicy: { intervalMs: 1e9, maxSteps: 10 },
      gate: { maxLossIncrease: 0.5 },
      holdoutEvery: 5,
      now: () => now,
    });
    let next = await trainSteps(trainer, 5);
    expect(await trainer.maybePublish()).toMatchObject({ published: false, reason: 'not-due' });
    next = await trainSteps(trainer, 5, next);
    const first = await trainer.maybePublish();
    expect(first.published).toBe(true);
    if (first.published) {
      expect(first.snapshot.version).toBe(1);
      expect(Number.isFinite(first.snapshot.validation?.candidateLoss)).toBe(true);
      // Judged against the initial parameters: the clicks so far were answered with them.
      expect(Number.isFinite(first.snapshot.validation?.liveLoss)).toBe(true);
    }
    next = await trainSteps(trainer, 10, next);
    now += 1;
    const second = await trainer.maybePublish();
    expect(second.published).toBe(true);
    if (second.published) {
      expect(second.snapshot.version).toBe(2);
      expect(second.snapshot.validation?.liveLoss).not.toBeNull();
    }
    // Poison the parameters: the gate must refuse and nothing is published.
    await trainSteps(trainer, 10, next);
    const v = method.trainableVariables()[0] as tf.Variable;
    tf.tidy(() => v.assign(tf.fill(v.shape, Number.NaN)));
    const third = await trainer.maybePublish();
    expect(third.published).toBe(false);
    if (!third.published) expect(third.reason).toMatch(/NaN/);
    trainer.dispose();
    method.dispose();
  }, 60_000);

  it('with a shadow trial, stages a candidate, tries it on the next clicks and publishes what was staged', async () => {
    let now = 0;
    const { method, trainer } = setup('ladder', { publishPolicy: { intervalMs: 1e9, maxSteps: 5 }, gate: { maxLossIncrease: 0.5 }, holdoutEvery: 5, shadowClicks: 24, now: () => now });
    let next = await trainSteps(trainer, 5);
    const staged = await trainer.maybePublish();
    expect(staged).toMatchObject({ published: false, staged: true });
    const stagedAt = trainer.steps;
    expect(trainer.publishDue()).toBe(false);
    const waiting = await trainer.maybePublish();
    expect(waiting.published).toBe(false);
    if (!waiting.published) expect(waiting.reason).toMatch(/on trial: \d+ of 24 clicks/);
    // 24 clicks on trial is three steps of 8 fresh.
    next = await trainSteps(trainer, 3, next);
    expect(trainer.publishDue()).toBe(true);
    now += 1;
    const verdict = await trainer.maybePublish();
    if (verdict.published) {
      expect(verdict.snapshot.steps).toBe(stagedAt);
      expect(verdict.snapshot.shadow?.clicks).toBeGreaterThanOrEqual(24);
      expect(verdict.snapshot.shadow?.candidateNdcg10).toBeGreaterThanOrEqual(verdict.snapshot.shadow?.liveNdcg10 ?? Number.NaN);
    } else {
      expect(verdict.decision?.accept === false ? verdict.decision.code : '').toBe('shadow-regressed');
    }
    // Either way the parameters trained during the trial are on trial now.
    expect(trainer.publishDue()).toBe(false);
    await trainSteps(trainer, 1, next);
    trainer.dispose();
    method.dispose();
  }, 60_000);

  it('a shadow trial refuses a candidate that ranks the next clicks worse than live', async () => {
    const { method, trainer } = setup('ladder', { publishPolicy: { intervalMs: 1e9, maxSteps: 1 }, gate: { maxLossIncrease: 1e9 }, holdoutEvery: 1000, shadowClicks: 40 });
    const next = await trainSteps(trainer, 2);
    // Scramble the item biases: the holdout gate (loss margin 1e9) lets it through, the trial must not.
    const bias = method.sideVariables()[1] as tf.Variable;
    tf.tidy(() => bias.assign(tf.mul(tf.randomNormal(bias.shape, 0, 1, 'float32', 7), 50)));
    expect(await trainer.maybePublish()).toMatchObject({ published: false, staged: true });
    let i = next;
    const stream = fixture.world.stream;
    while (!trainer.publishDue()) {
      trainer.observe(stream[i++ % stream.length] ?? (stream[0] as (typeof stream)[number]));
      await trainer.evaluatePending();
    }
    const verdict = await trainer.maybePublish();
    expect(verdict.published).toBe(false);
    if (!verdict.published) {
      expect(verdict.decision?.accept === false ? verdict.decision.code : '').toBe('shadow-regressed');
      expect(verdict.reason).toMatch(/worse than live/);
    }
    trainer.dispose();
    method.dispose();
  }, 60_000);

  it('anchorPull 1 returns every parameter but the new items\' embeddings to its start after each step', async () => {
    const { method, trainer } = setup('ladder', { anchorPull: 1 });
    const start = await method.serialize();
    await trainSteps(trainer, 10, 1500); // late in the stream, where new items are clicked
    expect(method.catalogue.sideCount).toBeGreaterThan(0);
    const after = await method.serialize();
    const newItems = new Set(['side.new_item_embedding']);
    for (const t of after.tensors) {
      const before = start.tensors.find((s) => s.name === t.name)?.values ?? new Float32Array();
      const moved = t.values.some((v, i) => v !== before[i]);
      expect(moved, t.name).toBe(newItems.has(t.name));
    }
    trainer.dispose();
    method.dispose();
  }, 60_000);
});
