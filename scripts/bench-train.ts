/**
 * `npm run bench:train`: what training costs per adaptation method, in two tables.
 *
 *   1. Step cost: the model package's benchmark (shared/model/src/cli/bench-train.ts, run as a child
 *      with --json): median step time and TF.js peak memory on identical batches, one process per
 *      method, no Kafka.
 *   2. End to end: clicks/s the real updater trains per method, from Kafka. Per method, on topics of
 *      its own: N clicks of the synthetic world's stream are produced first, then the updater
 *      (its own process, RECO_VARIANTS=<method>) starts facing the whole backlog; the clock runs from
 *      the moment it is ready to read it (its consumer joining the group, from its log) to the
 *      publish time of the first snapshot whose trained-up-to offsets cover every click. Also:
 *      optimiser steps (/metrics), time to the first snapshot, and the updater's peak RSS (VmHWM,
 *      Linux). A method slower than --timeout-s reports what it reached, marked "timed out".
 * Both with ratios to ladder (how many times faster ladder is; memory relative to ladder's).
 *
 * Flags: --methods a,b (default every training method)  --clicks N (20000)  --timeout-s N (600)
 *        --batch-size N  --fresh-per-step N  --engine auto|onnx|tfjs (updater's RECO_BACKBONE_ENGINE;
 *        each only passed on when given)  --variants N (variants of each method in the one updater,
 *        e.g. 2 ladder variants sharing its activation cache; default 1)  --steps N  --warmup N (step
 *        table)  --json <file>
 * Uses KAFKA_BROKERS when set, else starts a local broker; RECO_BACKBONE_DIR, else the synthetic backbone.
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSyntheticWorld } from '@reco/data';
import { METHOD_NAMES, type StepBenchRow } from '@reco/model';
import type { LocalKafka } from '@reco/stream';
import type { Kafka } from 'kafkajs';
import { runJsonScript } from './lib/run-json-script.js';
import { ensureBackbone, prepareStack, repoRoot } from './lib/stack.js';
import { measureUpdaterThroughput, type ThroughputRow } from './lib/updater-throughput.js';

const TRAINING_METHODS: readonly string[] = METHOD_NAMES.filter((m) => m !== 'frozen');
const ENGINES = ['auto', 'onnx', 'tfjs'];
const PUBLISH_INTERVAL_MS = 1000;
const STEP_BENCH = join(repoRoot, 'shared/model/src/cli/bench-train.ts');

const { values: flags } = parseArgs({
  options: {
    methods: { type: 'string', default: TRAINING_METHODS.join(',') },
    clicks: { type: 'string', default: '20000' },
    'timeout-s': { type: 'string', default: '600' },
    'batch-size': { type: 'string' },
    'fresh-per-step': { type: 'string' },
    engine: { type: 'string' },
    variants: { type: 'string', default: '1' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    json: { type: 'string' },
  },
});
const say = (message: string): void => void process.stderr.write(`[bench:train] ${message}\n`);

const methods = (flags.methods ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
const unknown = methods.filter((m) => !TRAINING_METHODS.includes(m));
if (methods.length === 0 || unknown.length > 0) throw new Error(`--methods: cannot benchmark training of "${unknown.join(', ')}"; choose from ${TRAINING_METHODS.join(', ')}`);
const clickCount = positiveInteger(flags.clicks, 'clicks');
const variantCount = positiveInteger(flags.variants, 'variants');
const timeoutS = positiveInteger(flags['timeout-s'], 'timeout-s');
if (flags.engine !== undefined && !ENGINES.includes(flags.engine)) throw new Error(`--engine must be one of ${ENGINES.join(', ')}; got "${flags.engine}"`);
for (const name of ['batch-size', 'fresh-per-step', 'steps', 'warmup'] as const) if (flags[name] !== undefined) positiveInteger(flags[name], name);

/** The step benchmark's row (shared/model/src/cli/bench-method.ts) with the ratios its parent adds. */
type StepRow = StepBenchRow & { stepTimeVsLadder: number | null; peakTfBytesVsLadder: number | null };

type EndToEndRow = ThroughputRow & { ladderFasterBy: number | null; peakRssVsLadder: number | null };

const backboneDir = await ensureBackbone({ env: process.env, say });

// The step table first, before a broker runs: its child processes then have the machine to themselves.
const stepArgs = ['--json', '--backbone', backboneDir, '--methods', methods.join(',')];
for (const name of ['steps', 'warmup', 'batch-size'] as const) if (flags[name] !== undefined) stepArgs.push(`--${name}`, String(flags[name]));
say(`step cost: ${STEP_BENCH} ${stepArgs.join(' ')}`);
const stepRows = await runJsonScript<StepRow[]>(STEP_BENCH, stepArgs, { ...process.env, ...(flags.engine !== undefined ? { RECO_BACKBONE_ENGINE: flags.engine } : {}) });

const updaterEnv: Record<string, string> = {
  ...(flags['batch-size'] !== undefined ? { RECO_BATCH_SIZE: flags['batch-size'] } : {}),
  ...(flags['fresh-per-step'] !== undefined ? { RECO_FRESH_PER_STEP: flags['fresh-per-step'] } : {}),
  ...(flags.engine !== undefined ? { RECO_BACKBONE_ENGINE: flags.engine } : {}),
};
const world = createSyntheticWorld();
const clicks = world.stream.filter((e) => e.type === 'click');
const runPrefix = `bench-train-${Date.now()}`;
const throughput: ThroughputRow[] = [];
let localBroker: LocalKafka | undefined;
let brokers = process.env.KAFKA_BROKERS?.trim() || undefined;
try {
  for (const method of methods) {
    // Fresh topics per method: the updater must face exactly this backlog and no earlier snapshot.
    const topicPrefix = `${runPrefix}.${method}.`;
    const stack = await prepareStack({ env: brokers ? { ...process.env, KAFKA_BROKERS: brokers } : process.env, topicPrefix, say });
    localBroker ??= stack.localBroker;
    brokers ??= stack.brokers;
    try {
      throughput.push(
        await measureUpdaterThroughput({ stack, topicPrefix, method, clicks, count: clickCount, backboneDir, env: updaterEnv, publishIntervalMs: PUBLISH_INTERVAL_MS, timeoutMs: timeoutS * 1000, variants: variantCount, say }),
      );
    } finally {
      await deleteTopics(stack.kafka, [stack.topics.events.name, stack.topics.deadLetter.name, stack.topics.adapters.name]);
    }
  }
} finally {
  await localBroker?.stop();
}

const ladder = throughput.find((r) => r.method === 'ladder');
const endToEnd: EndToEndRow[] = throughput.map((r) => ({
  ...r,
  ladderFasterBy: ladder?.clicksPerSec && r.clicksPerSec ? ladder.clicksPerSec / r.clicksPerSec : null,
  peakRssVsLadder: ladder?.peakRssMb && r.peakRssMb !== null ? r.peakRssMb / ladder.peakRssMb : null,
}));

const ratio = (x: number | null): string => (x === null ? '-' : `${x.toFixed(1)}x`);
const fixed = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits));
const stepSettings = `batch ${flags['batch-size'] ?? 64}, ${flags.steps ?? 20} timed steps after ${flags.warmup ?? 3} warm-up, one process per method`;
console.log(
  [
    `Training step cost per method (shared/model/src/cli/bench-train.ts: identical batches, no Kafka; ${stepSettings})`,
    '',
    '| method | trainable params | step ms (median) | examples/s | peak RSS MB (base) | peak TF.js MB in step | step time vs ladder | TF.js peak vs ladder |',
    '|---|---|---|---|---|---|---|---|',
    ...stepRows.map(
      (r) =>
        `| ${r.method} | ${r.trainableParams} | ${r.stepMsMedian.toFixed(1)} | ${Math.round(r.examplesPerSec)} | ${Math.round(r.peakRssMb)} (${Math.round(r.baseRssMb)}) | ${(r.peakTfBytes / 2 ** 20).toFixed(1)} | ${ratio(r.stepTimeVsLadder)} | ${ratio(r.peakTfBytesVsLadder)} |`,
    ),
    '',
    `End to end: clicks/s trained by the updater from a Kafka backlog of ${clickCount} clicks (its own process per method, publish interval ${PUBLISH_INTERVAL_MS} ms${describeEnv(updaterEnv)}${ladder?.backboneEngine ? `, ladder's frozen backbone on ${ladder.backboneEngine}` : ''}; clock: updater's consumer joined -> snapshot covering every click)`,
    '',
    '| method | variants | status | clicks trained | seconds | clicks/s | ladder faster by | steps | first snapshot s | snapshots | peak RSS MB | RSS vs ladder | backbone cache hits / misses |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...endToEnd.map(
      (r) =>
        `| ${r.method} | ${r.variants} | ${r.status} | ${r.clicksTrained}${r.status === 'ok' ? '' : ` of ${r.clicksProduced}`} | ${fixed(r.seconds, 1)} | ${fixed(r.clicksPerSec, 0)} | ${ratio(r.ladderFasterBy)} | ${r.steps ?? '-'} | ${fixed(r.timeToFirstSnapshotS, 1)} | ${r.snapshotsPublished} | ${fixed(r.peakRssMb, 0)} | ${ratio(r.peakRssVsLadder)} | ${r.cacheHits ?? '-'} / ${r.cacheMisses ?? '-'} |`,
    ),
  ].join('\n'),
);

if (flags.json) {
  const report = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), node: process.version, platform: process.platform },
    backboneDir,
    stepCost: { settings: { methods, batchSize: Number(flags['batch-size'] ?? 64), steps: Number(flags.steps ?? 20), warmup: Number(flags.warmup ?? 3) }, rows: stepRows },
    endToEnd: {
      settings: {
        methods,
        clicks: clickCount,
        timeoutS,
        publishIntervalMs: PUBLISH_INTERVAL_MS,
        updaterEnv,
        brokers: localBroker ? 'local' : 'KAFKA_BROKERS',
      },
      rows: endToEnd,
    },
  };
  await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
  say(`wrote ${flags.json}`);
}

function positiveInteger(raw: string | undefined, name: string): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return value;
}

function describeEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => `, ${key}=${value}`)
    .join('');
}

/** Best effort: a benchmark's topics are scratch, and a shared cluster should not keep them. */
async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch (error) {
    say(`warning: could not delete the topics ${topics.join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await admin.disconnect();
  }
}
