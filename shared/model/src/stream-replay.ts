import * as tf from '@tensorflow/tfjs-core';
import type { Interaction } from '@reco/data';
import type { OnlineTrainer } from './online-trainer.js';
import type { PrequentialFigures, PrequentialWindow } from './prequential.js';

/**
 * Replays a time-ordered stream through an online trainer the way the updater would see it:
 * events are booked as they arrive and a training step runs whenever a step's worth of fresh
 * examples has arrived (each step scores the new examples before training on them). After each
 * step the trainer's publish policy and validation gate run as in the updater; the trainer then
 * ranks the next clicks with what it last published (its default), as serving would answer them.
 * The trainer's clock should be the stream's (see `StreamClock`), so the policy's "every N
 * seconds" means N seconds of the log, as it would for an updater keeping up in real time.
 */
export interface StreamReplayOptions {
  /** Events per training step; default the trainer's freshPerStep. */
  eventsPerStep?: number;
  /** Called after every step with events processed so far. */
  onProgress?: (done: number, total: number, lastLoss: number) => void;
  /** Advanced to each event's ts before it is booked (the trainer's `now`). */
  clock?: StreamClock;
  /** Run the publish policy and gate after each step (default true). */
  publish?: boolean;
}

/** The replay's notion of now: the timestamp of the newest event booked. */
export class StreamClock {
  private ms = 0;

  set(ms: number): void {
    this.ms = Math.max(this.ms, ms);
  }

  readonly now = (): number => this.ms;
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
  published: number;
  /** Candidates the gate refused, by its code. */
  refused: Record<string, number>;
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
  let published = 0;
  const refused: Record<string, number> = {};
  const started = performance.now();
  const step = async (): Promise<void> => {
    const result = await trainer.trainStep();
    if (result !== null) {
      stepMs.push(result.ms);
      trainExamples += result.examples;
      lastLoss = result.loss;
    }
    if (options.publish !== false && trainer.publishDue()) {
      const outcome = await trainer.maybePublish();
      if (outcome.published) published++;
      else if (outcome.decision !== undefined && !outcome.decision.accept) refused[outcome.decision.code] = (refused[outcome.decision.code] ?? 0) + 1;
    }
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakTf = Math.max(peakTf, tf.memory().numBytes);
  };
  let sinceStep = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as Interaction;
    options.clock?.set(event.ts);
    trainer.observe(event);
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
    published,
    refused,
  };
}
