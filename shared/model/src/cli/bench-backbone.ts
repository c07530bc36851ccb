import { writeFile } from 'node:fs/promises';
import { initBackend } from '../backend.js';
import type { BackboneRunner } from '../backbone-runner.js';
import { loadCheckpoint } from '../checkpoint.js';
import { createBackboneRunner } from '../onnx/create-runner.js';
import { intOption, parseCli, readCliEnvironment, runCli } from './cli-config.js';
import { defaultBackboneDir } from './dataset-split.js';

const USAGE = 'bench:backbone [--backbone <dir>] [--batches 1,32,256] [--threads N] [--seconds N] [--json <file>]';

interface Row {
  engine: 'onnx' | 'tfjs';
  batch: number;
  calls: number;
  msMedian: number;
  msP90: number;
  sequencesPerSec: number;
}

/**
 * `npm run bench:backbone`: the frozen forward alone, ONNX Runtime against TF.js, on the same
 * checkpoint and the same id rows (histories of every length, padding included), per batch size:
 * median and p90 time of one call and sequences/s, then the ratio. No Kafka, no HTTP.
 */
runCli(async () => {
  const args = parseCli(
    process.argv.slice(2),
    { backbone: { type: 'string' }, batches: { type: 'string', default: '1,32,256' }, threads: { type: 'string' }, seconds: { type: 'string' }, json: { type: 'string' } },
    USAGE,
  );
  const env = readCliEnvironment();
  const backend = await initBackend(env.backend === undefined ? { log: () => undefined } : { preferred: env.backend, log: () => undefined });
  const dir = typeof args.backbone === 'string' ? args.backbone : defaultBackboneDir('synthetic');
  const { backbone, itemIds } = await loadCheckpoint(dir);
  const threads = intOption(args.threads, 'threads', 1);
  const seconds = intOption(args.seconds, 'seconds', 3);
  const batches = String(args.batches).split(',').map((b) => intOption(b.trim(), 'batches', 1));
  const { maxLen } = backbone.config;
  console.error(`bench:backbone: ${dir} (${itemIds.length} items, d ${backbone.config.dim}, ${backbone.config.blocks} blocks, maxLen ${maxLen}); TF.js on ${backend.name}; ONNX Runtime ${threads} thread(s); about ${seconds} s per row`);

  const rows: Row[] = [];
  for (const engine of ['onnx', 'tfjs'] as const) {
    const { runner } = await createBackboneRunner(backbone, { engine, threads, log: () => undefined });
    try {
      for (const batch of batches) rows.push(await timeRunner(runner, engine, batch, maxLen, itemIds.length, seconds));
    } finally {
      runner.dispose();
    }
  }
  console.log('| engine | batch | calls | median ms | p90 ms | sequences/s |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.engine} | ${r.batch} | ${r.calls} | ${r.msMedian.toFixed(2)} | ${r.msP90.toFixed(2)} | ${Math.round(r.sequencesPerSec)} |`);
  console.log('\n| batch | sequences/s ONNX Runtime / TF.js |\n| --- | --- |');
  for (const batch of batches) {
    const onnx = rows.find((r) => r.engine === 'onnx' && r.batch === batch);
    const tfjs = rows.find((r) => r.engine === 'tfjs' && r.batch === batch);
    if (onnx && tfjs) console.log(`| ${batch} | ${(onnx.sequencesPerSec / tfjs.sequencesPerSec).toFixed(1)}x |`);
  }
  if (typeof args.json === 'string') await writeFile(args.json, `${JSON.stringify({ backbone: dir, backend: backend.name, threads, rows }, null, 2)}\n`);
  backbone.dispose();
});

async function timeRunner(runner: BackboneRunner, engine: 'onnx' | 'tfjs', batch: number, maxLen: number, items: number, seconds: number): Promise<Row> {
  // Row r holds a history of (r mod maxLen) + 1 items: short, padded ones and full ones alike.
  const ids = new Int32Array(batch * maxLen);
  for (let r = 0; r < batch; r++) {
    const length = (r % maxLen) + 1;
    for (let i = 0; i < length; i++) ids[r * maxLen + (maxLen - length) + i] = 2 + ((r * 131 + i * 31) % items);
  }
  const input = { ids, batchSize: batch, maxLen };
  for (let i = 0; i < 3; i++) await runner.run(input);
  const times: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline || times.length < 5) {
    const started = performance.now();
    await runner.run(input);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const msMedian = times[Math.floor(times.length / 2)] ?? Number.NaN;
  return { engine, batch, calls: times.length, msMedian, msP90: times[Math.floor(times.length * 0.9)] ?? Number.NaN, sequencesPerSec: (batch * 1000) / msMedian };
}
