import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, type Interaction } from '@reco/data';
import { createAdaptation } from './adaptation/create-adaptation.js';
import { MEMORY_SCALE, MEMORY_SLOTS, candidateMemory, memoryOf } from './co-visit-memory.js';
import { CoVisits } from './co-visits.js';
import { ItemCatalogue } from './item-catalogue.js';
import { MEMORY_WEIGHT_GRID } from './memory-weight-choice.js';
import { OnlineTrainer } from './online-trainer.js';
import { candidateSet, negativeMask } from './sampled-softmax-loss.js';
import { type SmallFixture, smallWorldFixture } from './testing/small-world-fixture.js';

describe('memoryOf and candidateMemory', () => {
  it('a history’s memory is log(1 + scale · knn) of its best co-visited slots, at most MEMORY_SLOTS', () => {
    const visits = new CoVisits();
    const history: number[] = [];
    for (let slot = 2; slot < 2 + MEMORY_SLOTS + 40; slot++) {
      visits.learn(history, slot);
      history.push(slot);
    }
    const knn = visits.top([5], 1000);
    const memory = memoryOf(visits, [5]);
    expect(memory.slots.length).toBe(Math.min(MEMORY_SLOTS, knn.slots.length));
    expect([...memory.slots]).toEqual([...knn.slots.slice(0, memory.slots.length)]);
    memory.values.forEach((v, i) => expect(v).toBeCloseTo(Math.log1p((knn.values[i] as number) * MEMORY_SCALE), 5));
    expect(memoryOf(visits, []).slots.length).toBe(0);
  });

  it('places each example’s memory at the columns of the candidates it covers', () => {
    const candidates = candidateSet([7, 9], Int32Array.from([3, 4]));
    // columns: 7, 9, 3, 4
    const m = candidateMemory(
      [
        { slots: Int32Array.from([4, 8]), values: Float32Array.from([0.5, 2]) },
        { slots: Int32Array.from([7]), values: Float32Array.from([1]) },
      ],
      candidates,
    );
    expect([...m]).toEqual([0, 0, 0, 0.5, 1, 0, 0, 0]);
  });
});

describe('negativeMask', () => {
  it('masks what the user has and the same user’s other targets in the batch, never an example’s own target', () => {
    const examples = [
      { userId: 'a', target: 7 },
      { userId: 'a', target: 9 },
      { userId: 'b', target: 3 },
    ];
    const candidates = candidateSet(
      examples.map((e) => e.target),
      Int32Array.from([4, 5]),
    );
    // columns: 7, 9, 3, 4, 5; user a has had 5 (and, by its second click, 7).
    const had: Record<number, number[]> = { 0: [5], 1: [5, 7], 2: [] };
    const mask = negativeMask(examples, candidates, (row) => new Set(had[row]));
    expect([...mask.subarray(0, 5)]).toEqual([0, 1, 0, 0, 1]);
    expect([...mask.subarray(5, 10)]).toEqual([1, 0, 0, 0, 1]);
    expect([...mask.subarray(10, 15)]).toEqual([0, 0, 0, 0, 0]);
    // A filter that can only be asked (no forEach) masks the same columns.
    expect(negativeMask(examples, candidates, (row) => ({ has: (slot: number) => (had[row] ?? []).includes(slot) }))).toEqual(mask);
  });

  it('masks the same whether the filter lists its slots or is asked, on random batches', () => {
    const rng = createRng(21);
    for (let trial = 0; trial < 20; trial++) {
      const examples = Array.from({ length: 32 }, () => ({ userId: `u${rng.int(6)}`, target: 2 + rng.int(200) }));
      const candidates = candidateSet(
        examples.map((e) => e.target),
        Int32Array.from({ length: 100 }, () => 2 + rng.int(200)),
      );
      const seen = examples.map(() => new Set(Array.from({ length: rng.int(40) }, () => rng.int(260))));
      const listed = negativeMask(examples, candidates, (row) => seen[row] as Set<number>);
      const asked = negativeMask(examples, candidates, (row) => ({ has: (slot: number) => (seen[row] as Set<number>).has(slot) }));
      expect(listed).toEqual(asked);
    }
  });
});

describe('the trainer and the co-visit memory', () => {
  let fixture: SmallFixture;

  beforeAll(async () => {
    fixture = await smallWorldFixture();
  }, 180_000);

  afterAll(() => fixture.checkpoint.backbone.dispose());

  /** New users each click one item and then its fixed partner (a pairing the synthetic world never had), so only co-visits can tell the second click; the first clicks seed the counts. */
  function pairStream(itemIds: readonly string[]): Interaction[] {
    const partner = (i: number): string => itemIds[(i * 7 + 3) % itemIds.length] as string;
    const events: Interaction[] = [];
    for (let u = 0; u < 1500; u++) {
      const i = u % 60;
      events.push({ userId: `pair-${u}`, itemId: itemIds[i] as string, type: 'click', ts: 2 * u }, { userId: `pair-${u}`, itemId: partner(i), type: 'click', ts: 2 * u + 1 });
    }
    return events;
  }

  for (const memoryWeightBy of ['ranking', 'loss'] as const) {
    it(`${memoryWeightBy === 'ranking' ? 'chooses' : 'learns'} the memory weight on a stream where co-visits predict the next click, and ranks those clicks better for it`, async () => {
      const { backbone, itemIds, backboneId } = fixture.checkpoint;
      const method = createAdaptation('ladder', backbone, new ItemCatalogue(itemIds, 16), { seed: 4 });
      const trainer = new OnlineTrainer({ method, backboneId, batchSize: 32, freshPerStep: 16, seed: 5, negatives: 200, publishPolicy: { intervalMs: 1e9, maxSteps: 10 }, memoryWeightBy });
      const weight = async (): Promise<number> => (await method.coVisitWeight().data())[0] ?? 0;
      const movedByStep: number[] = [];
      try {
        for (const [n, event] of pairStream(itemIds).entries()) {
          trainer.observe(event);
          if (n % 16 === 15) {
            const before = await weight();
            await trainer.trainStep();
            movedByStep.push(Math.abs((await weight()) - before));
          }
          if (n % 320 === 319) await trainer.maybePublish();
        }
        await trainer.trainStep();
        if (memoryWeightBy === 'ranking') {
          // Set only at publish attempts, to a weight of the grid; no optimiser step moves it.
          expect(MEMORY_WEIGHT_GRID).toContain(await weight());
          expect(await weight()).toBeGreaterThanOrEqual(1);
          expect(Math.max(...movedByStep)).toBe(0);
        } else {
          expect(await weight()).toBeGreaterThan(0.3);
          expect(Math.max(...movedByStep)).toBeGreaterThan(0);
        }
        const windows = trainer.prequential.windows();
        const first = windows[0];
        const last = windows[windows.length - 1];
        expect(first).toBeDefined();
        expect(last?.hr10 ?? 0).toBeGreaterThan((first?.hr10 ?? 0) + 0.3);
      } finally {
        trainer.dispose();
        method.dispose();
      }
    }, 120_000);
  }
});
