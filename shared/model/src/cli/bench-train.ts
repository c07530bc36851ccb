import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng } from '@reco/data';
import { METHOD_NAMES, type MethodName, isMethodName } from '../adaptation/adaptation-method.js';
import { initBackend } from '../backend.js';
import { Backbone } from '../backbone.js';
import { DEFAULT_BACKBONE_SHAPE } from '../backbone-config.js';
import { loadCheckpoint } from '../checkpoint.js';
import { type BenchRow, type BenchSettings, benchMethod } from './bench-method.js';
import { runChild } from './child-runs.js';
import { intOption, parseCli, readCliEnvironment, runCli } from './cli-config.js';
import { defaultBackboneDir, loadSplit } from './dataset-split.js';

const USAGE = 'bench:train [--json] [--data synthetic|<path>] [--backbone <dir>] [--methods a,b] [--steps N] [--warmup N] [--batch-size N]';
const TRAINING_METHODS = METHOD_NAMES.filter((m) => m !== 'frozen');

runCli(async () => {
  const args = parseCli(
    process.argv.slice(2),
    {
      json: { type: 'boolean', default: false },
      data: { type: 'string', default: 'synthetic' },
      backbone: { type: 'string' },
      methods: { type: 'string', default: TRAINING_METHODS.join(',') },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      'batch-size': { type: 'string' },
      worker: { type: 'string' },
    },
    USAGE,
  );
  const env = readCliEnvironment();
  const data = String(args.data);
  const dir = typeof args.backbone === 'string' ? args.backbone : defaultBackboneDir(data);
  const settings: BenchSettings = {
    steps: intOption(args.steps, 'steps', 20),
    warmup: intOption(args.warmup, 'warmup', 3),
    batchSize: intOption(args['batch-size'], 'batch-size', 64),
    seed: 1,
  };
  const split = await loadSplit(data);
  const hasCheckpoint = await access(join(dir, 'manifest.json')).then(
    () => true,
    () => false,
  );
  // Step time does not depend on what the weights learned, so without a pretrained checkpoint a
  // seeded random backbone of the default shape over the same catalogue gives the same timings.
  const load = async () => {
    if (hasCheckpoint) return loadCheckpoint(dir);
    const itemIds = [...new Set(split.pretrain.map((e) => e.itemId))];
    return { backbone: Backbone.random({ ...DEFAULT_BACKBONE_SHAPE, numItems: itemIds.length }, createRng(1)), itemIds, backboneId: 'random-init' };
  };

  if (typeof args.worker === 'string') {
    if (!isMethodName(args.worker)) throw new Error(`unknown method ${args.worker}`);
    console.log(JSON.stringify(await benchMethod(args.worker, split, load, env, settings)));
    return;
  }

  const methods = String(args.methods).split(',').map((m) => m.trim());
  const unknown = methods.filter((m) => !isMethodName(m) || m === 'frozen');
  if (unknown.length > 0) throw new Error(`cannot benchmark training of ${unknown.join(', ')}; choose from ${TRAINING_METHODS.join(', ')}`);
  const backend = await initBackend(env.backend === undefined ? {} : { preferred: env.backend });
  console.error(`bench:train on ${backend.name}: ${hasCheckpoint ? `backbone ${dir}` : 'random-init backbone (no checkpoint found)'}, batch ${settings.batchSize}, ${settings.steps} timed steps after ${settings.warmup} warm-up, one child process per method`);
  const passThrough = ['--data', data, '--backbone', dir, '--steps', String(settings.steps), '--warmup', String(settings.warmup), '--batch-size', String(settings.batchSize)];
  const rows: BenchRow[] = [];
  for (const name of methods as MethodName[]) {
    rows.push(await runChild<BenchRow>(import.meta.url, [...passThrough, '--worker', name]));
    console.error(`${name}: ${rows[rows.length - 1]?.stepMsMedian.toFixed(1)} ms/step`);
  }
  const ladder = rows.find((r) => r.method === 'ladder');
  const withRatios = rows.map((r) => ({
    ...r,
    stepTimeVsLadder: ladder === undefined ? null : r.stepMsMedian / ladder.stepMsMedian,
    peakTfBytesVsLadder: ladder === undefined ? null : r.peakTfBytes / ladder.peakTfBytes,
  }));
  if (args.json === true) {
    console.log(JSON.stringify(withRatios, null, 2));
    return;
  }
  console.log('| method | trainable params | step ms (median) | examples/s | peak RSS MB (base) | peak TF.js MB in step | step time vs ladder | TF.js peak vs ladder |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of withRatios) {
    const ratio = (x: number | null): string => (x === null ? '-' : `${x.toFixed(1)}x`);
    console.log(
      `| ${r.method} | ${r.trainableParams} | ${r.stepMsMedian.toFixed(1)} | ${Math.round(r.examplesPerSec)} | ${Math.round(r.peakRssMb)} (${Math.round(r.baseRssMb)}) | ${(r.peakTfBytes / 2 ** 20).toFixed(1)} | ${ratio(r.stepTimeVsLadder)} | ${ratio(r.peakTfBytesVsLadder)} |`,
    );
  }
});
