import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@reco/data';
import { initBackend } from '../backend.js';
import { Backbone } from '../backbone.js';
import { DEFAULT_BACKBONE_SHAPE } from '../backbone-config.js';
import { markConstant } from '../constant-tensors.js';
import { embeddingLookup, useRowCopy } from '../embedding-lookup.js';
import { batchedMatMulKernel, useBatchedMatMulKernel } from '../kernels/batched-matmul-kernel.js';
import { matMul } from '../matmul.js';
import { batchGradients, dropoutModifiers } from '../pretrain-step.js';
import { intOption, parseCli, readCliEnvironment, runCli } from './cli-config.js';

const USAGE = 'bench:kernels [--items N] [--rows N] [--negatives N] [--seconds N] [--json <file>]';

interface Row {
  what: string;
  tfjsMs: number;
  kernelMs: number;
  speedup: number;
}

/**
 * `npm run bench:kernels`: what the batched-product kernel (kernels/batched-matmul-wat.ts) and the
 * embedding lookup's row copy (embedding-lookup.ts) buy, each row timed with TF.js's own kernel
 * and then with ours, in the same run: the attention's batched products at the default shape
 * (d 64, 2 heads, maxLen 50, 64 sequences), the frozen item table's lookup of those sequences,
 * and one whole pretraining step (forward, loss and gradients) of the default backbone.
 */
runCli(async () => {
  const args = parseCli(
    process.argv.slice(2),
    { items: { type: 'string' }, rows: { type: 'string' }, negatives: { type: 'string' }, seconds: { type: 'string' }, json: { type: 'string' } },
    USAGE,
  );
  const env = readCliEnvironment();
  const backend = await initBackend(env.backend === undefined ? { log: () => undefined } : { preferred: env.backend, log: () => undefined });
  if (batchedMatMulKernel() === undefined) throw new Error(`bench:kernels: the kernel is not used on the ${backend.name} backend`);
  const items = intOption(args.items, 'items', 9_000);
  const rows = intOption(args.rows, 'rows', 64);
  const negatives = intOption(args.negatives, 'negatives', 256);
  const seconds = intOption(args.seconds, 'seconds', 3);
  const { heads, maxLen, dim } = DEFAULT_BACKBONE_SHAPE;
  const dh = dim / heads;
  const batch = rows * heads;
  console.error(`bench:kernels: TF.js on ${backend.name}; ${rows} sequences of ${maxLen}, d ${dim}, ${heads} heads, ${items} items, ${negatives} negatives; about ${seconds} s per timing`);

  const rng = createRng(7);
  const random = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1), shape);
  const out: Row[] = [];
  for (const [label, [a, b]] of [
    [`attention logits [${batch}, ${maxLen}, ${dh}] x [${batch}, ${dh}, ${maxLen}]`, [random([batch, maxLen, dh]), random([batch, dh, maxLen])]],
    [`attention context [${batch}, ${maxLen}, ${maxLen}] x [${batch}, ${maxLen}, ${dh}]`, [random([batch, maxLen, maxLen]), random([batch, maxLen, dh])]],
  ] as const) {
    out.push(compare(label, seconds, () => matMul(a, b).dataSync(), useBatchedMatMulKernel));
  }
  const table = random([items + 2, dim]) as tf.Tensor2D;
  markConstant(table);
  const lookupIds = tf.tensor2d(Int32Array.from({ length: rows * maxLen }, () => rng.int(items + 2)), [rows, maxLen], 'int32');
  out.push(compare(`item lookup, ${rows} x ${maxLen} ids in a frozen [${items + 2}, ${dim}] table`, seconds, () => embeddingLookup(table, lookupIds).dataSync(), useRowCopy));

  const backbone = Backbone.random({ ...DEFAULT_BACKBONE_SHAPE, numItems: items }, createRng(1), { trainable: true });
  const ids = Int32Array.from({ length: rows * maxLen }, (_, i) => (i % maxLen < Math.floor(i / maxLen) % maxLen ? 0 : 2 + rng.int(items)));
  const labels = Int32Array.from({ length: rows * maxLen }, () => rng.int(negatives));
  const weights = Float32Array.from(ids, (id) => (id === 0 ? 0 : 1));
  const candidates = Int32Array.from({ length: negatives }, () => 2 + rng.int(items));
  const dropout = createRng(5);
  out.push(
    compare(`pretraining step, ${rows} x ${maxLen} positions against ${negatives} candidates`, seconds, () => {
      const g = batchGradients(backbone, { rows, maxLen, ids, labels, weights, candidates }, dropoutModifiers(0.2, dropout));
      for (const t of Object.values(g.grads)) t.dispose();
    }, (on) => {
      useBatchedMatMulKernel(on);
      useRowCopy(on);
    }),
  );
  backbone.dispose();

  console.log('| what | TF.js ms | ours ms | speed-up |');
  console.log('| --- | --- | --- | --- |');
  for (const r of out) console.log(`| ${r.what} | ${r.tfjsMs.toFixed(2)} | ${r.kernelMs.toFixed(2)} | ${r.speedup.toFixed(2)}x |`);
  if (typeof args.json === 'string') await writeFile(args.json, `${JSON.stringify({ backend: backend.name, rows, items, negatives, results: out }, null, 2)}\n`);
});

/** Median time of `run`, first with TF.js's own kernels (`use(false)`) and then with ours. */
function compare(what: string, seconds: number, run: () => unknown, use: (on: boolean) => void): Row {
  const median = (): number => {
    for (let i = 0; i < 2; i++) tf.tidy(() => void run());
    const times: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    while (performance.now() < deadline || times.length < 5) {
      const started = performance.now();
      tf.tidy(() => void run());
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] ?? Number.NaN;
  };
  use(false);
  const tfjsMs = median();
  use(true);
  const kernelMs = median();
  console.error(`  ${what}: TF.js ${tfjsMs.toFixed(2)} ms, ours ${kernelMs.toFixed(2)} ms`);
  return { what, tfjsMs, kernelMs, speedup: tfjsMs / kernelMs };
}
