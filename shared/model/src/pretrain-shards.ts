import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@reco/data';
import type { Backbone } from './backbone.js';
import type { BackboneConfig } from './backbone-config.js';
import type { BackboneModifiers } from './backbone-modifiers.js';
import { type BatchGradients, type PretrainBatch, batchGradients, batchRows, dropoutModifiers } from './pretrain-step.js';
import { startModuleWorker, workerFailure } from './threads/module-worker.js';

/** What a shard thread starts from (see pretrain-shard-worker.ts). */
export interface ShardWorkerData {
  config: BackboneConfig;
  /** The TF.js backend the main thread trains on: 'wasm' or 'cpu'. */
  backend: 'wasm' | 'cpu';
  values: Record<string, Float32Array>;
  dropout: number;
  seed: number;
}

/** One step's request: the current weights and this thread's rows of the batch. */
export interface ShardRequest {
  values: Record<string, Float32Array>;
  batch: PretrainBatch;
}

export interface ShardReply {
  loss: number;
  weight: number;
  grads: Record<string, { values: Float32Array; shape: number[] }>;
}

/**
 * Threads pretraining uses by default: one per core, at most 4. TF.js WASM runs every kernel on
 * the calling thread in Node, so a second core only helps through a second thread.
 */
export function defaultPretrainThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * Data-parallel gradients of the pretraining objective: each step's batch is cut into one
 * contiguous block of rows per thread, the main thread computes the first block and each worker
 * thread (its own TF.js backend and a copy of the weights, refreshed every step) one of the
 * others, against the same candidate columns. The batch gradient is the weight-averaged sum of
 * the blocks', in a fixed order: the same gradient as one thread's up to float rounding, so the
 * optimiser, the schedule and the weight decay stay on the main thread, unchanged. Only dropout
 * masks differ, each thread drawing from its own seeded stream.
 *
 * One thread (or the native TF.js backend, which already uses every core) starts no worker.
 */
export class DataParallelGradients {
  private constructor(
    private readonly backbone: Backbone,
    private readonly modifiers: BackboneModifiers,
    private readonly workers: Worker[],
    private readonly failures: Promise<never>,
  ) {}

  static async start(backbone: Backbone, options: { threads: number; dropout: number; rng: Rng }): Promise<DataParallelGradients> {
    const modifiers = dropoutModifiers(options.dropout, options.rng);
    const backend = tf.getBackend();
    const threads = backend === 'wasm' || backend === 'cpu' ? Math.max(1, Math.floor(options.threads)) : 1;
    const workers: Worker[] = [];
    if (threads > 1) {
      const values = Object.fromEntries(backbone.values());
      for (let i = 1; i < threads; i++) {
        const data: ShardWorkerData = { config: backbone.config, backend: backend as 'wasm' | 'cpu', values, dropout: options.dropout, seed: Math.floor(options.rng.next() * 4294967296) };
        workers.push(startModuleWorker(import.meta.url, 'pretrain-shard-worker', data));
      }
    }
    const failures = Promise.race(workers.map((w, i) => workerFailure(w, `pretraining thread ${i + 2}`)));
    // Nobody may be waiting when a worker fails; the next call to gradients() reports it.
    failures.catch(() => undefined);
    const parallel = new DataParallelGradients(backbone, modifiers, workers, failures);
    try {
      await Promise.race([Promise.all(workers.map((w) => nextMessage(w))), failures]);
    } catch (error) {
      await parallel.close();
      throw error;
    }
    return parallel;
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** The batch's loss and gradient by variable name; the caller disposes the gradients. */
  async gradients(batch: PretrainBatch): Promise<BatchGradients> {
    if (this.workers.length === 0) return batchGradients(this.backbone, batch, this.modifiers);
    const n = this.threads;
    const cut = (i: number) => Math.round((i * batch.rows) / n);
    const values = Object.fromEntries(this.backbone.values());
    const replies = this.workers.map((worker, i) => {
      const rows = batchRows(batch, cut(i + 1), cut(i + 2));
      // Copies, not views: a posted view would carry its whole underlying buffer.
      const request: ShardRequest = { values, batch: { ...rows, ids: rows.ids.slice(), labels: rows.labels.slice(), weights: rows.weights.slice() } };
      const reply = nextMessage(worker) as Promise<ShardReply>;
      worker.postMessage(request);
      return reply;
    });
    const local = batchGradients(this.backbone, batchRows(batch, 0, cut(1)), this.modifiers);
    let remote: ShardReply[];
    try {
      remote = await Promise.race([Promise.all(replies), this.failures]);
    } catch (error) {
      for (const g of Object.values(local.grads)) g.dispose();
      throw error;
    }
    return combine([local, ...remote.map(toGradients)]);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function nextMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve) => worker.once('message', resolve));
}

function toGradients(reply: ShardReply): BatchGradients {
  const grads: tf.NamedTensorMap = {};
  for (const [name, g] of Object.entries(reply.grads)) grads[name] = tf.tensor(g.values, g.shape, 'float32');
  return { loss: reply.loss, weight: reply.weight, grads };
}

/** Σ (weight_s / Σ weight) · part_s, over the parts in order; disposes the parts' tensors. */
function combine(parts: BatchGradients[]): BatchGradients {
  const weight = parts.reduce((sum, p) => sum + p.weight, 0);
  const counted = parts.filter((p) => p.weight > 0);
  const grads: tf.NamedTensorMap = {};
  const names = new Set(counted.flatMap((p) => Object.keys(p.grads)));
  for (const name of names) {
    grads[name] = tf.tidy(() =>
      counted.reduce<tf.Tensor | null>((sum, p) => {
        const g = p.grads[name];
        if (g === undefined) return sum;
        const scaled = tf.mul(g, p.weight / weight);
        return sum === null ? scaled : tf.add(sum, scaled);
      }, null) as tf.Tensor,
    );
  }
  for (const p of parts) for (const g of Object.values(p.grads)) g.dispose();
  const loss = weight > 0 ? counted.reduce((sum, p) => sum + (p.loss * p.weight) / weight, 0) : 0;
  return { loss, weight, grads };
}
