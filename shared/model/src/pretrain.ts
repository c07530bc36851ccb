import * as tf from '@tensorflow/tfjs-core';
import { type Interaction, type Rng, createRng } from '@reco/data';
import { Backbone } from './backbone.js';
import { backboneRanker } from './backbone-ranker.js';
import { type BackboneConfig, DEFAULT_BACKBONE_SHAPE, FIRST_ITEM_ID, PAD_ID, UNK_ID, backboneWeightSpecs } from './backbone-config.js';
import { type BaselineRow, evaluateBaselines } from './evaluation/baseline-suite.js';
import { type EvaluationProtocol, type ProtocolSummary, SERVING_PROTOCOL, evaluateCases } from './evaluation/protocol.js';
import { registerGradients } from './gradients.js';
import { learningRateAt } from './learning-rate-schedule.js';
import { NegativeSampler } from './negative-sampler.js';
import { preparePretrainData, trainingWindows } from './pretrain-data.js';
import { DataParallelGradients } from './pretrain-shards.js';
import type { PretrainBatch } from './pretrain-step.js';
import { candidateSet } from './sampled-softmax-loss.js';

/**
 * Offline pretraining of the backbone, SASRec-style: every position of every training window
 * predicts the next item.
 *
 * The loss is a sampled softmax: each position's target against the batch's targets plus
 * `negatives` items drawn uniformly from the catalogue (`negatives: 0` is the full softmax). On
 * MovieLens latest-small's 7,056 pretraining items, 1,024 candidates trained at 110 sequences/s
 * against the full softmax's 55, with about the same validation HR@10 per epoch (runs 1 and 2 in
 * docs/real-data.md).
 *
 * Generalisation comes from dropout (embeddings and each sublayer's output), decoupled weight
 * decay on the matrices, warm-up + cosine learning rate, random window offsets per epoch, and
 * early stopping: after every epoch the model is ranked on the validation targets under the
 * evaluation protocol (full ranking, seen items excluded), the best epoch's weights are kept and
 * training stops after `patience` epochs without improvement. The test targets are ranked once,
 * by the restored best weights, next to the classic baselines on the same split.
 */
export interface PretrainOptions {
  /** The pretraining log, any order. */
  interactions: readonly Interaction[];
  shape?: Partial<Omit<BackboneConfig, 'numItems'>>;
  /** Most epochs to run; early stopping usually ends sooner. */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** Share of input items replaced by UNK, so UNK (how the backbone sees a new item) means "some item". */
  unkRate?: number;
  dropout?: number;
  /** Decoupled weight decay per unit of learning rate (AdamW), on matrices and embeddings. */
  weightDecay?: number;
  /** Sampled negatives per step; 0 means a full softmax over the catalogue. */
  negatives?: number;
  /** Epochs without a better validation HR@10 before stopping. */
  patience?: number;
  /** Threads computing each step's gradient (data parallel, see pretrain-shards.ts); default 1. */
  threads?: number;
  protocol?: EvaluationProtocol;
  onStep?: (progress: PretrainStep) => void;
  onEpoch?: (report: PretrainEpoch) => void;
}

export interface PretrainStep {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  examplesPerSec: number;
}

export interface PretrainEpoch {
  epoch: number;
  loss: number;
  seconds: number;
  examplesPerSec: number;
  validation: ProtocolSummary;
  /** Whether this epoch is the best so far (its weights are the ones kept). */
  best: boolean;
}

export interface PretrainResult {
  /** Frozen (plain tensors), the best validation epoch's weights; the caller disposes it. */
  backbone: Backbone;
  itemIds: string[];
  epochs: PretrainEpoch[];
  bestEpoch: number;
  stoppedEarly: boolean;
  /** The kept weights on the validation targets (what selected them). */
  validation: ProtocolSummary;
  /** The kept weights on the test targets: the figure to report. */
  test: ProtocolSummary;
  /** Popularity, item-kNN and Markov fitted on the same training part, same targets. */
  baselines: BaselineRow[];
  /** Training-part click count per vocabulary slot. */
  counts: Float32Array;
  trainSeconds: number;
  trainSequences: number;
  validationUsers: number;
  settings: PretrainSettings;
}

export interface PretrainSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  dropout: number;
  weightDecay: number;
  negatives: number;
  patience: number;
  unkRate: number;
  seed: number;
  threads: number;
}

export const DEFAULT_PRETRAIN: Readonly<PretrainSettings> = Object.freeze({
  epochs: 20,
  batchSize: 64,
  learningRate: 3e-3,
  dropout: 0.2,
  weightDecay: 0.01,
  negatives: 1024,
  patience: 6,
  unkRate: 0.02,
  seed: 1,
  threads: 1,
});

function shuffled(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/** Left-padded inputs and next-item targets for a batch of windows. */
function batchTensors(windows: readonly number[][], maxLen: number, unkRate: number, rng: Rng) {
  const b = windows.length;
  const ids = new Int32Array(b * maxLen).fill(PAD_ID);
  const targets = new Int32Array(b * maxLen).fill(PAD_ID);
  const weights = new Float32Array(b * maxLen);
  windows.forEach((w, row) => {
    const n = w.length - 1;
    const base = row * maxLen + (maxLen - n);
    for (let i = 0; i < n; i++) {
      ids[base + i] = rng.next() < unkRate ? UNK_ID : (w[i] ?? PAD_ID);
      targets[base + i] = w[i + 1] ?? PAD_ID;
      weights[base + i] = 1;
    }
  });
  return { ids, targets, weights };
}

/** Weight names that decay: matrices and embeddings, never biases or LayerNorm parameters. */
function decayedWeights(config: BackboneConfig): Set<string> {
  return new Set(backboneWeightSpecs(config).filter((s) => s.kind === 'matrix' || s.kind === 'embedding').map((s) => s.name));
}

// `learningRate` is a plain field that AdamOptimizer reads on every applyGradients; the typings
// mark it protected, and a schedule needs to set it.
type SchedulableOptimizer = tf.Optimizer & { learningRate: number };

export async function pretrainBackbone(options: PretrainOptions): Promise<PretrainResult> {
  registerGradients();
  const shape = { ...DEFAULT_BACKBONE_SHAPE, ...options.shape };
  const settings: PretrainSettings = {
    epochs: options.epochs ?? DEFAULT_PRETRAIN.epochs,
    batchSize: options.batchSize ?? DEFAULT_PRETRAIN.batchSize,
    learningRate: options.learningRate ?? DEFAULT_PRETRAIN.learningRate,
    dropout: options.dropout ?? DEFAULT_PRETRAIN.dropout,
    weightDecay: options.weightDecay ?? DEFAULT_PRETRAIN.weightDecay,
    negatives: options.negatives ?? DEFAULT_PRETRAIN.negatives,
    patience: options.patience ?? DEFAULT_PRETRAIN.patience,
    unkRate: options.unkRate ?? DEFAULT_PRETRAIN.unkRate,
    seed: options.seed ?? DEFAULT_PRETRAIN.seed,
    threads: options.threads ?? DEFAULT_PRETRAIN.threads,
  };
  const protocol = options.protocol ?? SERVING_PROTOCOL;
  const rng = createRng(settings.seed);
  const data = preparePretrainData(options.interactions);
  const { split } = data;
  const numSlots = data.itemIds.length + FIRST_ITEM_ID;
  if (split.train.every((s) => s.length < 2)) throw new Error('pretraining needs at least one user with two or more events');
  const config: BackboneConfig = { ...shape, numItems: data.itemIds.length };
  const trainable = Backbone.random(config, rng.fork(), { trainable: true });
  const optimizer = tf.train.adam(settings.learningRate) as unknown as SchedulableOptimizer;
  const batchRng = rng.fork();
  const dropRng = rng.fork();
  const sampler = new NegativeSampler({ rng: rng.fork(), numSlots, firstValidSlot: FIRST_ITEM_ID });
  const decayed = decayedWeights(config);
  const reports: PretrainEpoch[] = [];
  const started = performance.now();
  const windowsPerEpoch = trainingWindows(split.train, shape.maxLen, () => 0).length;
  const stepsPerEpoch = Math.ceil(windowsPerEpoch / settings.batchSize);
  const schedule = { peak: settings.learningRate, totalSteps: stepsPerEpoch * settings.epochs, warmupSteps: Math.min(200, stepsPerEpoch * 2), floor: 0.05 };
  const parallel = await DataParallelGradients.start(trainable, { threads: settings.threads, dropout: settings.dropout, rng: dropRng });
  // The best epoch's weights as a frozen copy: training goes on changing the variables.
  let best: { epoch: number; hr10: number; backbone: Backbone } | null = null;
  let globalStep = 0;
  let stoppedEarly = false;
  try {
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      const epochStart = performance.now();
      const windows = trainingWindows(split.train, shape.maxLen, (n) => batchRng.int(n));
      const order = shuffled(windows.length, batchRng);
      const steps = Math.ceil(windows.length / settings.batchSize);
      let lossSum = 0;
      let examples = 0;
      for (let step = 0; step < steps; step++) {
        const rows = order.slice(step * settings.batchSize, (step + 1) * settings.batchSize).map((i) => windows[i] as number[]);
        const { ids, targets, weights } = batchTensors(rows, shape.maxLen, settings.unkRate, batchRng);
        const lr = learningRateAt(schedule, globalStep++);
        optimizer.learningRate = lr;
        const candidates = settings.negatives > 0 ? candidateSet(targets, sampler.sample(settings.negatives, new Set()), weights) : null;
        const batch: PretrainBatch = { rows: rows.length, maxLen: shape.maxLen, ids, labels: candidates?.targetColumns ?? targets, weights, candidates: candidates?.slots ?? null };
        const { loss, grads } = await parallel.gradients(batch);
        tf.tidy(() => {
          optimizer.applyGradients(grads);
          if (settings.weightDecay > 0) {
            for (const name of decayed) {
              const v = trainable.weight(name) as tf.Variable;
              v.assign(tf.mul(v, 1 - lr * settings.weightDecay));
            }
          }
        });
        for (const g of Object.values(grads)) g.dispose();
        if (!Number.isFinite(loss)) throw new Error(`pretraining diverged: loss ${loss} at epoch ${epoch}, step ${step + 1}`);
        lossSum += loss * rows.length;
        examples += rows.length;
        const elapsed = (performance.now() - epochStart) / 1000;
        options.onStep?.({ epoch, step: step + 1, stepsPerEpoch: steps, loss, examplesPerSec: examples / Math.max(elapsed, 1e-9) });
      }
      const seconds = (performance.now() - epochStart) / 1000;
      const validation = await evaluateCases(backboneRanker(trainable), split.valid, protocol);
      const improved = best === null || validation.full.hr10 > best.hr10;
      if (improved) {
        best?.backbone.dispose();
        best = { epoch, hr10: validation.full.hr10, backbone: trainable.frozenCopy() };
      }
      const report: PretrainEpoch = { epoch, loss: lossSum / Math.max(examples, 1), seconds, examplesPerSec: examples / seconds, validation, best: improved };
      reports.push(report);
      options.onEpoch?.(report);
      if (best !== null && epoch - best.epoch >= settings.patience && epoch < settings.epochs) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    optimizer.dispose();
    await parallel.close();
  }
  const backbone = best?.backbone ?? trainable.frozenCopy();
  trainable.dispose();
  const ranker = backboneRanker(backbone);
  return {
    backbone,
    itemIds: data.itemIds,
    epochs: reports,
    bestEpoch: best?.epoch ?? reports.length,
    stoppedEarly,
    validation: await evaluateCases(ranker, split.valid, protocol),
    test: await evaluateCases(ranker, split.test, protocol),
    baselines: await evaluateBaselines(split, numSlots, protocol),
    counts: data.counts,
    trainSeconds: (performance.now() - started) / 1000,
    trainSequences: windowsPerEpoch,
    validationUsers: split.valid.length,
    settings,
  };
}
