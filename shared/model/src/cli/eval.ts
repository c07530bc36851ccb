import { writeFile } from 'node:fs/promises';
import { METHOD_NAMES, type MethodName, isMethodName } from '../adaptation/adaptation-method.js';
import { runChild } from './child-runs.js';
import { intOption, parseCli, readCliEnvironment, runCli } from './cli-config.js';
import { defaultBackboneDir, loadSplit } from './dataset-split.js';
import { DEFAULT_EVAL_SETTINGS, type EvalMethodResult, type EvalSettings, evaluateMethod } from './eval-method.js';
import { evalPlot, evalTable } from './eval-report.js';
import { loadOrPretrain } from './pretrain-command.js';

const USAGE =
  'eval --data synthetic|<path> [--methods ladder,lora,...] [--json out.json] [--plot out.svg] [--backbone <dir>] [--window N] [--batch-size N] [--in-process]';

runCli(async () => {
  const args = parseCli(
    process.argv.slice(2),
    {
      data: { type: 'string', default: 'synthetic' },
      methods: { type: 'string', default: METHOD_NAMES.join(',') },
      json: { type: 'string' },
      plot: { type: 'string' },
      backbone: { type: 'string' },
      window: { type: 'string' },
      'batch-size': { type: 'string' },
      'events-per-step': { type: 'string' },
      'in-process': { type: 'boolean', default: false },
      worker: { type: 'string' },
    },
    USAGE,
  );
  const env = readCliEnvironment();
  const data = String(args.data);
  const backboneDir = typeof args.backbone === 'string' ? args.backbone : defaultBackboneDir(data);
  const settings: EvalSettings = {
    ...DEFAULT_EVAL_SETTINGS,
    window: intOption(args.window, 'window', DEFAULT_EVAL_SETTINGS.window),
    batchSize: intOption(args['batch-size'], 'batch-size', DEFAULT_EVAL_SETTINGS.batchSize),
    eventsPerStep: intOption(args['events-per-step'], 'events-per-step', DEFAULT_EVAL_SETTINGS.eventsPerStep),
  };
  const split = await loadSplit(data);

  if (typeof args.worker === 'string') {
    // Child mode: one method, result as the last stdout line (see child-runs.ts).
    if (!isMethodName(args.worker)) throw new Error(`unknown method ${args.worker}`);
    const result = await evaluateMethod(args.worker, split, backboneDir, env, settings);
    console.log(JSON.stringify(result));
    return;
  }

  const methods = String(args.methods).split(',').map((m) => m.trim());
  const unknown = methods.filter((m) => !isMethodName(m));
  if (unknown.length > 0) throw new Error(`unknown method(s) ${unknown.join(', ')}; known: ${METHOD_NAMES.join(', ')}`);
  const checkpoint = await loadOrPretrain(split, backboneDir, env);
  console.error(`backbone ${checkpoint.backboneId} from ${backboneDir}; stream of ${split.stream.length} events`);
  checkpoint.backbone.dispose();

  const results: EvalMethodResult[] = [];
  const passThrough = ['--data', data, '--backbone', backboneDir, '--window', String(settings.window), '--batch-size', String(settings.batchSize), '--events-per-step', String(settings.eventsPerStep)];
  for (const name of methods as MethodName[]) {
    // --in-process skips the child processes (quicker to debug); peak RSS is then cumulative.
    const result = args['in-process'] === true
      ? await evaluateMethod(name, split, backboneDir, env, settings)
      : await runChild<EvalMethodResult>(import.meta.url, [...passThrough, '--worker', name]);
    results.push(result);
    console.error(`${name}: HR@10 ${result.row.hr10.toFixed(4)} (last window ${result.row.hr10Last.toFixed(4)}), ${result.wallSeconds.toFixed(0)} s`);
  }

  console.log(`\neval on ${split.name}: ${split.stream.length} stream events, prequential (test-then-train) full-ranking metrics, windows of ${settings.window} clicks\n`);
  console.log(evalTable(results));
  if (typeof args.json === 'string') {
    await writeFile(args.json, `${JSON.stringify(results.map((r) => r.row), null, 2)}\n`);
    console.error(`wrote ${args.json}`);
  }
  if (typeof args.plot === 'string') {
    const streamStart = split.stream[0]?.ts ?? 0;
    await writeFile(args.plot, evalPlot(results, split.drifts, streamStart, `Prequential HR@10 on ${split.name}`));
    console.error(`wrote ${args.plot}`);
  }
});
