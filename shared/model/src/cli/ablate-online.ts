import { writeFile } from 'node:fs/promises';
import { replayBaselines } from '../evaluation/prequential-baselines.js';
import { SERVING_PROTOCOL, describeProtocol } from '../evaluation/protocol.js';
import { parseCli, readCliEnvironment, runCli } from './cli-config.js';
import { loadStreamPrefix } from './dataset-split.js';
import { DEFAULT_EVAL_SETTINGS, type EvalSettings, evaluateMethod } from './eval-method.js';
import { loadOrPretrain } from './pretrain-command.js';

/**
 * Why online training loses to the frozen backbone: ladder replayed over the first N events of
 * the stream exactly as `eval` does (published parameters answer, the updater's policy and
 * gate), once per change to the trainer, beside frozen and the online baselines.
 * Each row changes one thing against the defaults (or, for the last rows, the old defaults).
 */
const VARIANTS: { name: string; change: Partial<EvalSettings> }[] = [
  { name: 'defaults (1,000 negatives, side Adam 1e-2)', change: {} },
  { name: 'old defaults: 100 negatives, side Adam 5e-2', change: { negatives: 100, sideLearningRate: 5e-2 } },
  { name: '100 negatives, side Adam 1e-2', change: { negatives: 100 } },
  { name: '1,000 negatives, side Adam 5e-2', change: { sideLearningRate: 5e-2 } },
  { name: '1,000 negatives, side Adam 2e-2', change: { sideLearningRate: 2e-2 } },
  { name: '1,000 negatives, side Adam 5e-3', change: { sideLearningRate: 5e-3 } },
  { name: '1,000 negatives, side table frozen (lr 1e-9)', change: { sideLearningRate: 1e-9 } },
  { name: '100 negatives, side table frozen', change: { negatives: 100, sideLearningRate: 1e-9 } },
  { name: '1,000 negatives, side SGD 1.0', change: { sideOptimizer: 'sgd', sideLearningRate: 1 } },
  { name: '1,000 negatives, ladder lr 1e-3', change: { learningRate: 1e-3 } },
  { name: '1,000 negatives, ladder lr 2e-2', change: { learningRate: 2e-2 } },
  { name: '6,000 negatives', change: { negatives: 6000 } },
];

const USAGE = 'ablate:online --data <path> [--backbone <dir>] [--stream-events N] [--json out.json]';

runCli(async () => {
  const args = parseCli(
    process.argv.slice(2),
    { data: { type: 'string', default: 'synthetic' }, backbone: { type: 'string' }, 'stream-events': { type: 'string' }, json: { type: 'string' } },
    USAGE,
  );
  const env = readCliEnvironment();
  const { split, events, backboneDir } = await loadStreamPrefix(args, 4000);
  (await loadOrPretrain(split, backboneDir, env)).backbone.dispose();
  const settings: EvalSettings = { ...DEFAULT_EVAL_SETTINGS, window: Math.max(100, Math.floor(events / 8)) };
  const baselines = replayBaselines(split.pretrain, split.stream, { window: settings.window });
  const frozen = await evaluateMethod('frozen', split, backboneDir, env, settings);
  const rows: { name: string; hr10: number; ndcg10: number; last: number; newItems: number; published: number; refused: number }[] = [];
  const add = (name: string, r: typeof frozen): void => {
    rows.push({ name, hr10: r.row.hr10, ndcg10: r.row.ndcg10, last: r.row.hr10Last, newItems: r.row.newItemHr10, published: r.row.published, refused: Object.values(r.row.refused).reduce((a, b) => a + b, 0) });
    console.error(`${name}: HR@10 ${r.row.hr10.toFixed(4)}, last window ${r.row.hr10Last.toFixed(4)}`);
  };
  add('frozen', frozen);
  for (const v of VARIANTS) add(`ladder, ${v.name}`, await evaluateMethod('ladder', split, backboneDir, env, { ...settings, ...v.change }));
  const f = rows[0] as (typeof rows)[number];
  const fmt = (x: number): string => x.toFixed(4);
  const lines = [
    `ladder on the first ${events} stream events of ${split.name}; prequential, ${describeProtocol(SERVING_PROTOCOL)}, each click ranked by the last published snapshot; windows of ${settings.window}`,
    '',
    '| run | HR@10 | NDCG@10 | HR@10 last window | HR@10 new items | x frozen | published / refused |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${fmt(r.hr10)} | ${fmt(r.ndcg10)} | ${fmt(r.last)} | ${fmt(r.newItems)} | ${(r.hr10 / f.hr10).toFixed(2)}x | ${r.published} / ${r.refused} |`),
    ...baselines.map((b) => `| ${b.name} (baseline, online) | ${fmt(b.overall.hr10)} | ${fmt(b.overall.ndcg10)} | ${fmt(b.last?.hr10 ?? Number.NaN)} | ${fmt(b.newItems.hr10)} | ${(b.overall.hr10 / f.hr10).toFixed(2)}x | - |`),
  ];
  console.log(lines.join('\n'));
  if (typeof args.json === 'string') await writeFile(args.json, `${JSON.stringify({ data: split.name, events, rows, baselines: baselines.map((b) => ({ name: b.name, hr10: b.overall.hr10, last: b.last?.hr10 ?? null })) }, null, 2)}\n`);
});
