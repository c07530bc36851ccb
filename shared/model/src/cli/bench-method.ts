import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@reco/data';
import type { MethodName } from '../adaptation/adaptation-method.js';
import { createAdaptation } from '../adaptation/create-adaptation.js';
import { initBackend } from '../backend.js';
import type { Backbone } from '../backbone.js';
import { ItemCatalogue } from '../item-catalogue.js';
import { NO_SCORES } from '../co-visits.js';
import { createBackboneRunner, isBackboneEngine } from '../onnx/create-runner.js';
import { OnlineTrainer, type TrainingExample } from '../online-trainer.js';
import { median } from '../stream-replay.js';
import { UserHistories } from '../user-histories.js';
import type { CliEnvironment } from './cli-config.js';
import { peakRssMb } from './child-runs.js';
import type { DatasetSplit } from './dataset-split.js';

export interface BenchRow {
  method: MethodName;
  trainableParams: number;
  stepMsMedian: number;
  examplesPerSec: number;
  peakRssMb: number;
  /** RSS after loading the backbone and building the batches, before the first step. */
  baseRssMb: number;
  /** Peak bytes held by TF.js tensors during one step (tf.profile), activations included. */
  peakTfBytes: number;
  /** What ran the frozen backbone outside the tape (ladder only; the others run it in TF.js, in their tape). */
  engine: 'onnx' | 'tfjs' | null;
}

export interface BenchSettings {
  steps: number;
  warmup: number;
  batchSize: number;
  seed: number;
}

/**
 * Identical batches for every method: the same seeded draw of (history -> next item) examples
 * from the stream, rebuilt in every child from the same seed. Fresh example objects each time,
 * so the ladder's backbone outputs are never cached here: its step includes its backbone forward.
 */
export function benchBatches(split: DatasetSplit, catalogue: ItemCatalogue, maxLen: number, settings: BenchSettings): TrainingExample[][] {
  const histories = new UserHistories(maxLen, 1_000_000);
  const pool: TrainingExample[] = [];
  for (const e of [...split.pretrain, ...split.stream]) {
    const slot = catalogue.ensureSlot(e.itemId);
    if (slot === undefined) continue;
    const history = histories.get(e.userId);
    const seenCount = histories.seenCount(e.userId);
    histories.append(e.userId, slot);
    if (history.length > 0) pool.push({ userId: e.userId, history, target: slot, ts: e.ts, newItem: catalogue.isSideSlot(slot), seenCount, memory: NO_SCORES });
  }
  const rng = createRng(settings.seed);
  return Array.from({ length: settings.steps + settings.warmup + 1 }, () => Array.from({ length: settings.batchSize }, () => pool[rng.int(pool.length)] as TrainingExample));
}

export async function benchMethod(name: MethodName, split: DatasetSplit, load: () => Promise<{ backbone: Backbone; itemIds: string[]; backboneId: string }>, env: CliEnvironment, settings: BenchSettings): Promise<BenchRow> {
  await initBackend(env.backend === undefined ? {} : { preferred: env.backend });
  const { backbone, itemIds, backboneId } = await load();
  const catalogue = new ItemCatalogue(itemIds, 256);
  const batches = benchBatches(split, catalogue, backbone.config.maxLen, settings);
  // Ladder runs its frozen forward on the engine the services use (RECO_BACKBONE_ENGINE, default auto).
  const engineName = process.env.RECO_BACKBONE_ENGINE?.trim() || 'auto';
  if (!isBackboneEngine(engineName)) throw new Error(`RECO_BACKBONE_ENGINE must be one of auto, onnx, tfjs; got "${engineName}"`);
  const engine = name === 'ladder' ? await createBackboneRunner(backbone, { engine: engineName, log: () => undefined }) : undefined;
  const method = createAdaptation(name, backbone, catalogue, { seed: settings.seed, ...(engine ? { ladder: { runner: engine.runner } } : {}) });
  const trainer = new OnlineTrainer({ method, backboneId, batchSize: settings.batchSize, seed: settings.seed });
  const baseRssMb = process.memoryUsage().rss / 2 ** 20;
  const fresh = (b: TrainingExample[]): TrainingExample[] => b.map((e) => ({ ...e, features: undefined }));
  try {
    const times: number[] = [];
    for (const [i, batch] of batches.slice(0, settings.steps + settings.warmup).entries()) {
      const result = await trainer.trainOn(fresh(batch));
      if (i >= settings.warmup) times.push(result.ms);
    }
    const last = batches[batches.length - 1] as TrainingExample[];
    const profile = await tf.profile(async () => {
      await trainer.trainOn(fresh(last));
    });
    const stepMs = median(times);
    return {
      method: name,
      trainableParams: method.parameterCount().trainable,
      stepMsMedian: stepMs,
      examplesPerSec: (settings.batchSize * 1000) / stepMs,
      peakRssMb: peakRssMb(),
      baseRssMb,
      peakTfBytes: profile.peakBytes,
      engine: engine?.engine ?? null,
    };
  } finally {
    trainer.dispose();
    method.dispose();
    engine?.runner.dispose();
    backbone.dispose();
  }
}
