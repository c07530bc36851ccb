import { initBackend } from '../backend.js';
import type { MethodName } from '../adaptation/adaptation-method.js';
import { createAdaptation } from '../adaptation/create-adaptation.js';
import { loadCheckpoint } from '../checkpoint.js';
import { ItemCatalogue } from '../item-catalogue.js';
import { OnlineTrainer } from '../online-trainer.js';
import { createProgressReporter } from '@reco/report';
import type { PrequentialWindow } from '../prequential.js';
import { StreamClock, median, replayStream } from '../stream-replay.js';
import type { CliEnvironment } from './cli-config.js';
import { peakRssMb } from './child-runs.js';
import type { DatasetSplit } from './dataset-split.js';

/** One table row of `eval`, exactly the JSON fields the issue names. */
export interface EvalRow {
  method: MethodName;
  trainableParams: number;
  hr10: number;
  ndcg10: number;
  hr10First: number;
  hr10Last: number;
  newItemHr10: number;
  stepMsMedian: number;
  examplesPerSec: number;
  peakRssMb: number;
  /** Snapshots the gate let through, and candidates it refused (by reason). */
  published: number;
  refused: Record<string, number>;
}

export interface EvalMethodResult {
  row: EvalRow;
  methodParams: number;
  backboneParams: number;
  windows: PrequentialWindow[];
  newItemClicks: number;
  wallSeconds: number;
}

export interface EvalSettings {
  batchSize: number;
  eventsPerStep: number;
  window: number;
  sideCapacity: number;
  seed: number;
  /** The updater's publish policy and gate margins (its defaults, see services/updater/src/config.ts). */
  publishIntervalMs: number;
  publishMaxSteps: number;
  gateMaxLossIncrease: number;
  gateMaxRankingDrop: number;
  learningRate?: number;
  sideLearningRate?: number;
  sideOptimizer?: 'adam' | 'adagrad' | 'sgd';
  negatives?: number;
  /** Clicks each candidate is tried on before it is published (the updater's RECO_GATE_SHADOW_CLICKS). */
  shadowClicks?: number;
  anchorPull?: number;
  /** How the co-visit memory's weight is set (OnlineTrainerOptions.memoryWeightBy). */
  memoryWeightBy?: 'ranking' | 'loss';
}

/** What the updater runs with by default, so `eval` measures what a deployment would do. */
export const DEFAULT_EVAL_SETTINGS: EvalSettings = {
  batchSize: 64,
  eventsPerStep: 32,
  window: 1000,
  sideCapacity: 1000,
  seed: 1,
  publishIntervalMs: 5000,
  publishMaxSteps: 200,
  gateMaxLossIncrease: 0.5,
  gateMaxRankingDrop: 0.01,
};

/** Replays the stream through one method (in the current process) and measures it. */
export async function evaluateMethod(name: MethodName, split: DatasetSplit, backboneDir: string, env: CliEnvironment, settings: EvalSettings): Promise<EvalMethodResult> {
  await initBackend(env.backend === undefined ? {} : { preferred: env.backend });
  const { backbone, itemIds, backboneId } = await loadCheckpoint(backboneDir);
  const catalogue = new ItemCatalogue(itemIds, settings.sideCapacity);
  const method = createAdaptation(name, backbone, catalogue, { seed: settings.seed });
  const clock = new StreamClock();
  const trainer = new OnlineTrainer({
    method,
    backboneId,
    batchSize: settings.batchSize,
    freshPerStep: settings.eventsPerStep,
    prequentialWindow: settings.window,
    seed: settings.seed,
    publishPolicy: { intervalMs: settings.publishIntervalMs, maxSteps: settings.publishMaxSteps },
    gate: { maxLossIncrease: settings.gateMaxLossIncrease, maxRankingDrop: settings.gateMaxRankingDrop },
    scoreWith: 'published',
    now: clock.now,
    ...(settings.learningRate === undefined ? {} : { learningRate: settings.learningRate }),
    ...(settings.sideLearningRate === undefined ? {} : { sideLearningRate: settings.sideLearningRate }),
    ...(settings.sideOptimizer === undefined ? {} : { sideOptimizer: settings.sideOptimizer }),
    ...(settings.negatives === undefined ? {} : { negatives: settings.negatives }),
    ...(settings.shadowClicks === undefined ? {} : { shadowClicks: settings.shadowClicks }),
    ...(settings.anchorPull === undefined ? {} : { anchorPull: settings.anchorPull }),
    ...(settings.memoryWeightBy === undefined ? {} : { memoryWeightBy: settings.memoryWeightBy }),
  });
  trainer.seedHistories(split.pretrain);
  const progress = createProgressReporter({ label: name });
  progress.start(split.stream.length);
  try {
    const report = await replayStream(trainer, split.stream, {
      eventsPerStep: settings.eventsPerStep,
      clock,
      onProgress: (done, _total, loss) => progress.update(done, { loss: Number.isFinite(loss) ? loss.toFixed(3) : '-' }),
    });
    const counts = method.parameterCount();
    return {
      row: {
        method: name,
        trainableParams: counts.trainable,
        hr10: report.overall.hr10,
        ndcg10: report.overall.ndcg10,
        hr10First: report.first?.hr10 ?? Number.NaN,
        hr10Last: report.last?.hr10 ?? Number.NaN,
        newItemHr10: report.newItems.hr10,
        stepMsMedian: median(report.stepMs),
        examplesPerSec: report.trainSeconds > 0 ? report.trainExamples / report.trainSeconds : 0,
        peakRssMb: peakRssMb(),
        published: report.published,
        refused: report.refused,
      },
      methodParams: counts.method,
      backboneParams: backbone.parameterCount,
      windows: report.windows,
      newItemClicks: report.newItems.count,
      wallSeconds: report.wallSeconds,
    };
  } finally {
    progress.stop();
    trainer.dispose();
    method.dispose();
    backbone.dispose();
  }
}
