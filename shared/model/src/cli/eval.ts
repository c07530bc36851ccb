import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { METHOD_NAMES, type MethodName, isMethodName } from '../adaptation/adaptation-method.js';
import { replayBaselines } from '../evaluation/prequential-baselines.js';
import { SERVING_PROTOCOL, describeProtocol } from '../evaluation/protocol.js';
import { mapConcurrently, runChild } from './child-runs.js';
import { intOption, nonNegativeOption, numberOption, parseCli, readCliEnvironment, runCli } from './cli-config.js';
import { defaultBackboneDir, loadSplit } from './dataset-split.js';
import { DEFAULT_EVAL_SETTINGS, type EvalMethodResult, type EvalSettings, evaluateMethod } from './eval-method.js';
import { evalPlot, evalTable } from './eval-report.js';
import { loadOrPretrain } from './pretrain-command.js';

const USAGE =
  'eval --data synthetic|<path> [--methods ladder,lora,...] [--json out.json] [--plot out.svg] [--backbone <dir>] [--window N] [--batch-size N] ' +
  '[--events-per-step N] [--side-capacity N] [--lr X] [--side-lr X] [--side-optimizer adam|adagrad|sgd] [--negatives N] [--shadow-clicks N] [--anchor-pull X] [--memory-weight ranking|loss] [--gate-ranking-drop X] [--stream-events N] [--min-rating X] [--jobs N (methods at once, default one per core)] [--in-process]';

function sideOptimizerOption(value: string): 'adam' | 'adagrad' | 'sgd' {
  if (value === 'adam' || value === 'adagrad' || value === 'sgd') return value;
  throw new Error(`--side-optimizer must be adam, adagrad or sgd, got ${value}`);
}

function memoryWeightOption(value: string): 'ranking' | 'loss' {
  if (value === 'ranking' || value === 'loss') return value;
  throw new Error(`--memory-weight must be ranking or loss, got ${value}`);
}

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
      'side-capacity': { type: 'string' },
      lr: { type: 'string' },
      'side-lr': { type: 'string' },
      'side-optimizer': { type: 'string' },
      negatives: { type: 'string' },
      'shadow-clicks': { type: 'string' },
      'anchor-pull': { type: 'string' },
      'memory-weight': { type: 'string' },
      'gate-ranking-drop': { type: 'string' },
      'stream-events': { type: 'string' },
      'min-rating': { type: 'string' },
      jobs: { type: 'string' },
      'in-process': { type: 'boolean', default: false },
      worker: { type: 'string' },
      settings: { type: 'string' },
    },
    USAGE,
  );
  const env = readCliEnvironment();
  const data = String(args.data);
  const backboneDir = typeof args.backbone === 'string' ? args.backbone : defaultBackboneDir(data);
  const settings: EvalSettings =
    typeof args.settings === 'string'
      ? (JSON.parse(args.settings) as EvalSettings)
      : {
          ...DEFAULT_EVAL_SETTINGS,
          window: intOption(args.window, 'window', DEFAULT_EVAL_SETTINGS.window),
          batchSize: intOption(args['batch-size'], 'batch-size', DEFAULT_EVAL_SETTINGS.batchSize),
          eventsPerStep: intOption(args['events-per-step'], 'events-per-step', DEFAULT_EVAL_SETTINGS.eventsPerStep),
          sideCapacity: intOption(args['side-capacity'], 'side-capacity', DEFAULT_EVAL_SETTINGS.sideCapacity),
          gateMaxRankingDrop: nonNegativeOption(args['gate-ranking-drop'], 'gate-ranking-drop', DEFAULT_EVAL_SETTINGS.gateMaxRankingDrop),
          ...(args.lr === undefined ? {} : { learningRate: numberOption(args.lr, 'lr', 5e-3) }),
          ...(args['side-lr'] === undefined ? {} : { sideLearningRate: numberOption(args['side-lr'], 'side-lr', 5e-2) }),
          ...(args['side-optimizer'] === undefined ? {} : { sideOptimizer: sideOptimizerOption(String(args['side-optimizer'])) }),
          ...(args.negatives === undefined ? {} : { negatives: intOption(args.negatives, 'negatives', 1000) }),
          ...(args['anchor-pull'] === undefined ? {} : { anchorPull: nonNegativeOption(args['anchor-pull'], 'anchor-pull', 0) }),
          ...(args['shadow-clicks'] === undefined ? {} : { shadowClicks: intOption(args['shadow-clicks'], 'shadow-clicks', 0) }),
          ...(args['memory-weight'] === undefined ? {} : { memoryWeightBy: memoryWeightOption(String(args['memory-weight'])) }),
        };
  const minRating = args['min-rating'] === undefined ? undefined : nonNegativeOption(args['min-rating'], 'min-rating', 0);
  const loaded = await loadSplit(data, undefined, minRating === undefined ? {} : { minRating });
  // --stream-events N replays only the stream's first N events: a quick ablation, same protocol.
  const streamEvents = args['stream-events'] === undefined ? undefined : intOption(args['stream-events'], 'stream-events', 1);
  const split = streamEvents === undefined ? loaded : { ...loaded, stream: loaded.stream.slice(0, streamEvents) };

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

  const baselines = replayBaselines(split.pretrain, split.stream, { window: settings.window, protocol: SERVING_PROTOCOL });
  for (const b of baselines) console.error(`${b.name} (online): HR@10 ${b.overall.hr10.toFixed(4)} (last window ${(b.last?.hr10 ?? Number.NaN).toFixed(4)})`);
  const passThrough = ['--data', data, '--backbone', backboneDir, '--settings', JSON.stringify(settings), ...(streamEvents === undefined ? [] : ['--stream-events', String(streamEvents)]), ...(minRating === undefined ? [] : ['--min-rating', String(minRating)])];
  const report = (name: MethodName, result: EvalMethodResult): void =>
    console.error(`${name}: HR@10 ${result.row.hr10.toFixed(4)} (last window ${result.row.hr10Last.toFixed(4)}), ${result.row.published} published, refused ${JSON.stringify(result.row.refused)}, ${result.wallSeconds.toFixed(0)} s`);
  let results: EvalMethodResult[];
  if (args['in-process'] === true) {
    // --in-process skips the child processes (quicker to debug); peak RSS is then cumulative.
    results = [];
    for (const name of methods as MethodName[]) {
      const result = await evaluateMethod(name, split, backboneDir, env, settings);
      report(name, result);
      results.push(result);
    }
  } else {
    // Each method trains on one thread (TF.js WASM), so one child per core runs side by side;
    // the table keeps the order asked for.
    const jobs = intOption(args.jobs, 'jobs', availableParallelism());
    console.error(`evaluating ${methods.length} method(s), ${Math.min(jobs, methods.length)} at a time`);
    results = await mapConcurrently(methods as MethodName[], jobs, async (name) => {
      const result = await runChild<EvalMethodResult>(import.meta.url, [...passThrough, '--worker', name]);
      report(name, result);
      return result;
    });
  }

  console.log(
    `\neval on ${split.name}: ${split.stream.length} stream events after a pretraining log of ${split.pretrain.length}; prequential (test-then-train): ` +
      `each click ranked by the last published (gated) parameters, then learned from; ${describeProtocol(SERVING_PROTOCOL)}; windows of ${settings.window} clicks; ` +
      `baselines count the pretraining log, then learn online too\n`,
  );
  console.log(evalTable(results, baselines));
  if (typeof args.json === 'string') {
    const report = {
      data: split.name,
      protocol: describeProtocol(SERVING_PROTOCOL),
      settings,
      methods: results.map((r) => ({ ...r.row, windows: r.windows })),
      baselines: baselines.map((b) => ({ name: b.name, description: b.description, hr10: b.overall.hr10, ndcg10: b.overall.ndcg10, hr10First: b.first?.hr10 ?? null, hr10Last: b.last?.hr10 ?? null, newItemHr10: b.newItems.hr10, windows: b.windows })),
    };
    await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.error(`wrote ${args.json}`);
  }
  if (typeof args.plot === 'string') {
    const streamStart = split.stream[0]?.ts ?? 0;
    await writeFile(args.plot, evalPlot(results, baselines, split.drifts, streamStart, `Prequential HR@10 on ${split.name}`));
    console.error(`wrote ${args.plot}`);
  }
});
