import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { createProgressReporter } from '@reco/report';
import { initBackend } from '../backend.js';
import { type BackboneConfig, FIRST_ITEM_ID } from '../backbone-config.js';
import { type LoadedCheckpoint, loadCheckpoint, saveCheckpoint } from '../checkpoint.js';
import { defaultPretrainThreads } from '../pretrain-shards.js';
import { DEFAULT_PRETRAIN, type PretrainResult, type PretrainSettings, pretrainBackbone } from '../pretrain.js';
import { leaveOneOutTable } from '../evaluation/comparison-table.js';
import type { CliEnvironment } from './cli-config.js';
import type { DatasetSplit } from './dataset-split.js';

export type PretrainCommandOptions = Partial<PretrainSettings> & { shape?: Partial<Omit<BackboneConfig, 'numItems'>> };

/** The report's table: the kept backbone beside the classic baselines on the same split. */
export function pretrainReport(result: PretrainResult): string {
  return leaveOneOutTable([{ name: 'backbone', valid: result.validation, test: result.test }], result.baselines);
}

/** What a split pretrains with unless told otherwise. */
export type PretrainSchedule = Pick<PretrainSettings, 'epochs' | 'patience' | 'negatives' | 'learningRate'>;

/**
 * The synthetic world keeps DEFAULT_PRETRAIN (its two-minute budget). A real log gets a longer
 * schedule at a higher learning rate and fewer uniform negatives, chosen by the search in
 * docs/real-data.md on MovieLens latest-small (453 users, 27 steps an epoch): the default 20
 * epochs ranked 0.72x item-kNN on test HR@10 (dropout needs the longer schedule); 40 epochs with
 * 1,024 negatives ranked 1.26-1.41x in 12 minutes; 28 epochs at 6e-3 with 256 negatives ranked
 * 1.23x in 369 s on 2 cores (with the batched-product kernel; 449 s before), and 24 epochs 1.18x
 * in 298 s (stopped early after epoch 22; validation HR@10 0.106 against 0.099), inside the
 * 6-minute budget. The validation curve is flat from about epoch 12 on. The in-batch targets
 * (about 1,500 distinct items a batch) are most of the negatives either way.
 */
export function defaultSchedule(split: Pick<DatasetSplit, 'name'>): PretrainSchedule {
  if (split.name === 'synthetic') {
    const { epochs, patience, negatives, learningRate } = DEFAULT_PRETRAIN;
    return { epochs, patience, negatives, learningRate };
  }
  return { epochs: 24, patience: 8, negatives: 256, learningRate: 6e-3 };
}

/**
 * Pretrains on the split's pretraining part with a progress bar (epoch, loss, examples/s, ETA)
 * and one line per epoch with validation HR@10, then writes the best epoch's checkpoint to `out`
 * with its figures and the baselines' in the manifest, the data set's titles and categories when
 * it has them, and each item's pretraining click count.
 */
export async function pretrainToCheckpoint(split: DatasetSplit, out: string, given: PretrainCommandOptions): Promise<{ result: PretrainResult; backboneId: string }> {
  const schedule = defaultSchedule(split);
  const options = {
    ...given,
    epochs: given.epochs ?? schedule.epochs,
    patience: given.patience ?? schedule.patience,
    negatives: given.negatives ?? schedule.negatives,
    learningRate: given.learningRate ?? schedule.learningRate,
    threads: given.threads ?? defaultPretrainThreads(),
  };
  const epochs = options.epochs;
  const progress = createProgressReporter({ label: 'pretrain' });
  const started = performance.now();
  let result: PretrainResult;
  try {
    result = await pretrainBackbone({
      interactions: split.pretrain,
      ...options,
      onStep: (s) => {
        if (s.step === 1) progress.start(s.stepsPerEpoch, `epoch ${s.epoch}/${epochs}`);
        const elapsed = (performance.now() - started) / 1000;
        progress.update(s.step, { loss: s.loss.toFixed(3), 'ex/s': Math.round(s.examplesPerSec), elapsed: `${Math.round(elapsed)}s` });
      },
      onEpoch: (e) => {
        progress.stop();
        console.error(
          `epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)}, ${Math.round(e.examplesPerSec)} sequences/s, ` +
            `validation HR@10 ${e.validation.full.hr10.toFixed(4)} NDCG@10 ${e.validation.full.ndcg10.toFixed(4)} (${e.validation.label})` +
            `${e.best ? ', best so far' : ''}`,
        );
      },
    });
  } finally {
    progress.stop();
  }
  const figures = (s: PretrainResult['test']) => ({ label: s.label, full: s.full, sampled100: s.sampled });
  const backboneId = await saveCheckpoint(out, result.backbone, result.itemIds, {
    data: split.name,
    settings: result.settings,
    epochsRun: result.epochs.length,
    bestEpoch: result.bestEpoch,
    trainSeconds: Number(result.trainSeconds.toFixed(1)),
    protocol: 'leave-one-out within the pretraining log',
    validation: figures(result.validation),
    test: figures(result.test),
    baselines: result.baselines.map((b) => ({ name: b.name, description: b.description, validation: figures(b.valid), test: figures(b.test) })),
  }, {
    ...(split.items === undefined ? {} : { itemMetadata: split.items }),
    // Serving's cold-start answers start from these (result.counts is indexed by vocabulary slot).
    itemCounts: result.itemIds.map((_, i) => result.counts[FIRST_ITEM_ID + i] ?? 0),
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
