import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '../backend.js';
import { type LoadedCheckpoint, loadCheckpoint, saveCheckpoint } from '../checkpoint.js';
import { createProgressReporter } from '@reco/report';
import { DEFAULT_PRETRAIN, type PretrainResult, pretrainBackbone } from '../pretrain.js';
import type { CliEnvironment } from './cli-config.js';
import type { DatasetSplit } from './dataset-split.js';

export interface PretrainCommandOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
}

/**
 * Pretrains on the split's pretraining part with a progress bar (epoch, loss, examples/s, ETA)
 * and one line per epoch with validation HR@10, then writes the checkpoint to `out`.
 */
export async function pretrainToCheckpoint(split: DatasetSplit, out: string, options: PretrainCommandOptions): Promise<{ result: PretrainResult; backboneId: string }> {
  const epochs = options.epochs ?? DEFAULT_PRETRAIN.epochs;
  const progress = createProgressReporter({ label: 'pretrain' });
  const started = performance.now();
  let result: PretrainResult;
  try {
    result = await pretrainBackbone({
      interactions: split.pretrain,
      epochs,
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.learningRate === undefined ? {} : { learningRate: options.learningRate }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      onStep: (s) => {
        if (s.step === 1) progress.start(s.stepsPerEpoch, `epoch ${s.epoch}/${epochs}`);
        const elapsed = (performance.now() - started) / 1000;
        const doneFraction = (s.epoch - 1 + s.step / s.stepsPerEpoch) / epochs;
        const eta = doneFraction > 0 ? (elapsed / doneFraction) * (1 - doneFraction) : 0;
        progress.update(s.step, { loss: s.loss.toFixed(3), 'ex/s': Math.round(s.examplesPerSec), 'total ETA': `${Math.round(eta)}s` });
      },
      onEpoch: (e) => {
        progress.stop();
        console.error(
          `epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)}, ${Math.round(e.examplesPerSec)} sequences/s, ` +
            `validation HR@10 ${e.validation.full.hr10.toFixed(4)} NDCG@10 ${e.validation.full.ndcg10.toFixed(4)} (full ranking), ` +
            `HR@10 ${e.validation.sampled.hr10.toFixed(4)} (sampled-100), ${e.validation.full.count} users`,
        );
      },
    });
  } finally {
    progress.stop();
  }
  const backboneId = await saveCheckpoint(out, result.backbone, result.itemIds, {
    data: split.name,
    epochs,
    trainSeconds: Number(result.trainSeconds.toFixed(1)),
    validation: { protocol: 'leave-one-out', full: result.validation.full, sampled100: result.validation.sampled },
    popularity: { full: result.popularity.full, sampled100: result.popularity.sampled },
  });
  return { result, backboneId };
}

/** Loads `dir` when it holds a checkpoint, else pretrains into it first. */
export async function loadOrPretrain(split: DatasetSplit, dir: string, env: CliEnvironment, options: PretrainCommandOptions = {}): Promise<LoadedCheckpoint> {
  await initBackend(env.backend === undefined ? {} : { preferred: env.backend });
  const exists = await access(join(dir, 'manifest.json')).then(
    () => true,
    () => false,
  );
  if (!exists) {
    console.error(`no backbone in ${dir}: pretraining one on ${split.name} (${split.pretrain.length} events)`);
    const { result } = await pretrainToCheckpoint(split, dir, options);
    result.backbone.dispose();
  }
  return loadCheckpoint(dir);
}
