/**
 * A pretraining thread (see DataParallelGradients in pretrain-shards.ts): holds a copy of the
 * backbone's weights on its own TF.js backend and answers each step's rows with their loss and
 * gradients.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRng } from '@reco/data';
import { initBackend } from './backend.js';
import { Backbone } from './backbone.js';
import type { ShardReply, ShardRequest, ShardWorkerData } from './pretrain-shards.js';
import { batchGradients, dropoutModifiers } from './pretrain-step.js';

const port = parentPort;
if (port === null) throw new Error('pretrain-shard-worker runs as a worker thread');
const data = workerData as ShardWorkerData;
await initBackend({ preferred: data.backend, log: () => undefined });
const backbone = Backbone.fromValues(data.config, new Map(Object.entries(data.values)), { trainable: true });
const modifiers = dropoutModifiers(data.dropout, createRng(data.seed));

port.on('message', (request: ShardRequest) => {
  backbone.assignValues(new Map(Object.entries(request.values)));
  const out = batchGradients(backbone, request.batch, modifiers);
  const grads: ShardReply['grads'] = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, g] of Object.entries(out.grads)) {
    const values = Float32Array.from(g.dataSync() as Float32Array);
    grads[name] = { values, shape: g.shape };
    transfer.push(values.buffer);
    g.dispose();
  }
  const reply: ShardReply = { loss: out.loss, weight: out.weight, grads };
  port.postMessage(reply, transfer);
});
port.postMessage('ready');
