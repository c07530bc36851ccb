import * as tf from '@tensorflow/tfjs-core';
import type { Interaction } from '@reco/data';
import type { OnlineTrainer } from './online-trainer.js';
import type { PrequentialFigures, PrequentialWindow } from './prequential.js';

/**
 * Replays a time-ordered stream through an online trainer the way the updater would see it:
 * events are booked as they arrive and a training step runs whenever a step's worth of fresh
 * examples has arrived (each step scores the new examples before training on them).
 */
export interface StreamReplayOptions {
  /** Events per training step; default the trainer's freshPerStep. */
  eventsPerStep?: number;
  /** Called after every step with events processed so far. */
  onProgress?: (done: number, total: number, lastLoss: number) => void;
}

export interface StreamReplayReport {
  method: string;
  events: number;
  steps: number;
  overall: PrequentialFigures;
  first: PrequentialWindow | null;
  last: PrequentialWindow | null;
  windows: PrequentialWindow[];
  newItems: PrequentialFigures;
  stepMs: number[];
  trainExamples: number;
  trainSeconds: number;
  wallSeconds: number;
  peakRssBytes: number;
  peakTfBytes: number;
  finalLoss: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function replayStream(trainer: OnlineTrainer, events: readonly Interaction[], options: StreamReplayOptions = {}): Promise<StreamReplayReport> {
  const perStep = options.eventsPerStep ?? 32;
  const stepMs: number[] = [];
  let trainExamples = 0;
  let peakRss = process.memoryUsage().rss;
  let peakTf = tf.memory().numBytes;
  let lastLoss = Number.NaN;
  const started = performance.now();
  const step = async (): Promise<void> => {
    const result = await trainer.trainStep();
    if (result !== null) {
      stepMs.push(result.ms);
      trainExamples += result.examples;
      lastLoss = result.loss;
    }
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakTf = Math.max(peakTf, tf.memory().numBytes);
  };
  let sinceStep = 0;
  for (let i = 0; i < events.length; i++) {
    trainer.observe(events[i] as Interaction);
    if (++sinceStep >= perStep) {
      sinceStep = 0;
      await step();
      options.onProgress?.(i + 1, events.length, lastLoss);
    }
  }
  // Drain: score what is left and train on the remaining fresh examples.
  for (let guard = 0; trainer.backlog > 0 && guard < 10_000; guard++) {
    const before = trainer.backlog;
    await step();
    if (trainer.backlog >= before) break;
  }
  options.onProgress?.(events.length, events.length, lastLoss);
  const trainSeconds = stepMs.reduce((a, b) => a + b, 0) / 1000;
  return {
    method: trainer.method.name,
    events: events.length,
    steps: trainer.steps,
    overall: trainer.prequential.overall(),
    first: trainer.prequential.first(),
    last: trainer.prequential.last(),
    windows: trainer.prequential.windows(),
    newItems: trainer.newItemPrequential.overall(),
    stepMs,
    trainExamples,
    trainSeconds,
    wallSeconds: (performance.now() - started) / 1000,
    peakRssBytes: peakRss,
    peakTfBytes: peakTf,
    finalLoss: lastLoss,
  };
}
