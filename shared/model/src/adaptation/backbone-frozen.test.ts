import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ItemCatalogue } from '../item-catalogue.js';
import { OnlineTrainer } from '../online-trainer.js';
import { tensorsDifferingFromCheckpoint } from '../testing/checkpoint-bytes.js';
import { type SmallFixture, smallWorldFixture } from '../testing/small-world-fixture.js';
import { METHOD_NAMES, type MethodName } from './adaptation-method.js';
import { createAdaptation } from './create-adaptation.js';

let fixture: SmallFixture;

beforeAll(async () => {
  fixture = await smallWorldFixture();
}, 180_000);

afterAll(() => fixture.checkpoint.backbone.dispose());

/** Trains `name` for `steps` steps on the stream (small batches), recording where backbone.forward ran. */
async function train(name: MethodName, steps: number) {
  const { backbone, itemIds, backboneId } = fixture.checkpoint;
  const catalogue = new ItemCatalogue(itemIds, 64);
  const method = createAdaptation(name, backbone, catalogue, { seed: 9 });
  const trainer = new OnlineTrainer({ method, backboneId, batchSize: 16, freshPerStep: 16, holdoutEvery: 1_000_000, seed: 2 });
  trainer.seedHistories(fixture.world.pretrainLog);
  const forwardUnderTape: boolean[] = [];
  // Every online forward goes through lastStates (the user state is all a click needs).
  const original = backbone.lastStates.bind(backbone);
  const spy = vi.spyOn(backbone, 'lastStates').mockImplementation((ids, modifiers, options) => {
    forwardUnderTape.push(tf.engine().state.activeTape !== null && tf.engine().state.activeTape !== undefined);
    return original(ids, modifiers, options);
  });
  const losses: number[] = [];
  try {
    for (const event of fixture.world.stream) {
      if (trainer.steps >= steps) break;
      trainer.observe(event);
      if (trainer.backlog >= 16) {
        const r = await trainer.trainStep();
        if (r !== null) losses.push(r.loss);
      }
    }
  } finally {
    spy.mockRestore();
  }
  return { method, trainer, forwardUnderTape, losses };
}

describe('the backbone never changes', () => {
  it.each(METHOD_NAMES.filter((m) => m !== 'frozen'))(
    'after 200 training steps of %s every backbone tensor is bit-identical to the checkpoint',
    async (name) => {
      const { method, trainer, losses } = await train(name, 200);
      expect(trainer.steps).toBe(200);
      expect(losses.every(Number.isFinite)).toBe(true);
      // The method did learn something (else "unchanged" would prove nothing).
      const snapshot = await method.serialize();
      expect(snapshot.tensors.some((t) => t.name.startsWith('side.') && t.values.some((v) => v !== 0))).toBe(true);
      expect(await tensorsDifferingFromCheckpoint(fixture.dir, fixture.checkpoint.backbone)).toEqual([]);
      trainer.dispose();
      method.dispose();
    },
    120_000,
  );

  it('ladder: the optimiser sees no backbone tensor and the backbone forward never runs under a gradient tape', async () => {
    const { backbone } = fixture.checkpoint;
    const { method, trainer, forwardUnderTape } = await train('ladder', 30);
    const backboneTensorIds = new Set(backbone.weightNames().map((n) => backbone.weight(n).id));
    const optimised = method.trainableVariables();
    expect(optimised.length).toBeGreaterThan(0);
    for (const v of optimised) expect(backboneTensorIds.has(v.id)).toBe(false);
    const names = (await method.serialize()).tensors.map((t) => t.name);
    expect(names.every((n) => n.startsWith('ladder.') || n.startsWith('side.'))).toBe(true);
    expect(forwardUnderTape.length).toBeGreaterThan(0);
    expect(forwardUnderTape.every((taped) => !taped)).toBe(true);
    trainer.dispose();
    method.dispose();

    // Control: LoRA does backpropagate through the backbone, so its forward runs under the tape.
    const lora = await train('lora', 3);
    expect(lora.forwardUnderTape.some((taped) => taped)).toBe(true);
    lora.trainer.dispose();
    lora.method.dispose();
  }, 120_000);
});
