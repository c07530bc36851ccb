/**
 * `npm run bench:serve`: how many recommendation requests per second does one serving process
 * answer, and how fast, with the ONNX Runtime backbone engine against the TF.js one?
 *
 * Starts (or uses, with KAFKA_BROKERS) a broker and fresh topics, gives `--users` users click
 * histories on `reco.events` (10-50 clicks each over the backbone's catalogue), then per engine
 * starts a fresh serving process (RECO_BACKBONE_ENGINE=<engine>) that reads those histories at
 * start-up, warms it up, and drives it with autocannon from this process at each concurrency level:
 * every request is GET /v1/recommendations for a random known user (or, with --mode post, a POST
 * with an explicit random history: nothing kept per user, every request pays the full forward).
 * Prints req/s and p50/p99 latency per engine and level, the onnx/tfjs ratios, and whether each row
 * meets the issue's target; --json writes every figure with the settings.
 *
 * With --ceiling, after the engines, the same levels run against a bare-HTTP ceiling server
 * (scripts/lib/ceiling-server.ts: Fastify on the same worker count answering a fixed ten-item body,
 * no model) through the same autocannon path, in the same run: its rows join the table, and each
 * engine's req/s per level is given as a multiple of the ceiling's, against issue 12's target
 * (>= 0.5x the ceiling with p99 <= 10 ms at 64 connections).
 *
 * Without --backbone, a seeded random-init checkpoint of the default shape over `--items` items is
 * created once in .cache/backbones/bench-<items>items: the cost of a forward pass does not depend
 * on what the weights learned.
 *
 * Serving inherits this process's environment, so RECO_* settings in the shell (for example
 * RECO_BACKBONE_CACHE_ENTRIES=0 to measure the engine rather than its activation cache) reach it;
 * the report lists them. Exits 1 when an engine's run failed or any request got a non-2xx answer
 * or a connection error (the table says which).
 *
 * Without a snapshot the variant serves the frozen backbone's ranking (co-visit memory weight 0),
 * so no request computes a co-visit memory. With --memory-weight w, a ladder snapshot with that
 * weight is published first (scripts/lib/bench-snapshot.ts) and the levels start once serving
 * answers with it: every request then computes its history's memory from the counts serving keeps
 * of the produced clicks, as a trained ladder does in production.
 *
 * Flags: --backbone <dir>  --items 3000  --variant ladder  --engines onnx,tfjs  --concurrency 1,16,64
 *        --duration 10 (s per level)  --warmup 3 (s per engine, not reported)  --users 5000  --k 10
 *        --mode get|post  --workers N (RECO_SERVING_WORKERS)  --ceiling  --seed 1  --memory-weight w
 *        --json <file>
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng } from '@reco/data';
import { encodeEvent, sendWithinLimit } from '@reco/stream';
import type { Message } from 'kafkajs';
import { histogramTotals, sampleDelta, scrapeMetrics, seriesKey, type MetricFamily } from './lib/metrics-scrape.js';
import { startService, type ServiceProcess } from './lib/service-process.js';
import { publishBenchSnapshot } from './lib/bench-snapshot.js';
import { runSnapshotKey, runSnapshotKeyEnv } from './lib/snapshot-key.js';
import { prepareStack, repoRoot } from './lib/stack.js';

const say = (message: string): void => void process.stderr.write(`[bench:serve] ${message}\n`);

const startedAt = new Date().toISOString();
const TARGET = { reqPerSec: 5000, p99Ms: 10, variant: 'ladder', k: 10 } as const;
/** Issue 12: the recommendation route at half the bare-HTTP ceiling or better, p99 within 10 ms, at 64 connections. */
const CEILING_TARGET = { ratio: 0.5, p99Ms: 10, concurrency: 64 } as const;
const ENGINES = ['onnx', 'tfjs', 'auto'] as const;
type Engine = (typeof ENGINES)[number];
/** What a run measures: serving with one engine, or the ceiling server. */
type Target = Engine | 'ceiling';

const { values: flags } = parseArgs({
  options: {
    backbone: { type: 'string' },
    items: { type: 'string', default: '3000' },
    variant: { type: 'string', default: 'ladder' },
    engines: { type: 'string', default: 'onnx,tfjs' },
    concurrency: { type: 'string', default: '1,16,64' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    users: { type: 'string', default: '5000' },
    k: { type: 'string', default: '10' },
    mode: { type: 'string', default: 'get' },
    workers: { type: 'string' },
    ceiling: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'memory-weight': { type: 'string' },
    json: { type: 'string' },
  },
});

function positiveInt(name: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer between 1 and ${max}, got "${raw}"`);
  return n;
}
const items = positiveInt('items', flags.items);
const durationS = positiveInt('duration', flags.duration);
const warmupS = Number(flags.warmup);
if (!Number.isInteger(warmupS) || warmupS < 0) throw new Error(`--warmup must be a whole number of seconds >= 0, got "${flags.warmup}"`);
const userCount = positiveInt('users', flags.users);
const k = positiveInt('k', flags.k, 100);
const seed = positiveInt('seed', flags.seed);
const memoryWeight = flags['memory-weight'] === undefined ? undefined : Number(flags['memory-weight']);
if (memoryWeight !== undefined && !Number.isFinite(memoryWeight)) throw new Error(`--memory-weight must be a number, got "${flags['memory-weight']}"`);
// The snapshot it publishes is a ladder's: serving would refuse it for a variant of another method.
if (memoryWeight !== undefined && flags.variant !== 'ladder') throw new Error(`--memory-weight publishes a ladder snapshot; use it with --variant ladder, not "${flags.variant}"`);
// One key for the run: every serving process verifies what this process signs (--memory-weight).
const snapshotKeyEnv = runSnapshotKeyEnv(process.env);
const workers = flags.workers === undefined ? undefined : positiveInt('workers', flags.workers, 64);
const concurrency = flags.concurrency.split(',').map((c) => positiveInt('concurrency', c.trim(), 10_000));
const engines = flags.engines.split(',').map((e) => e.trim());
const unknownEngine = engines.find((e) => !(ENGINES as readonly string[]).includes(e));
if (unknownEngine !== undefined) throw new Error(`--engines: unknown engine "${unknownEngine}"; choose from ${ENGINES.join(', ')}`);
if (flags.mode !== 'get' && flags.mode !== 'post') throw new Error(`--mode must be get or post, got "${flags.mode}"`);
const mode = flags.mode;
const variant = flags.variant;

// autocannon ships no type declarations: the slice of its API used here.
interface CannonHistogram {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  total: number;
}
interface CannonResult {
  requests: CannonHistogram;
  latency: CannonHistogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
type Autocannon = (options: { url: string; connections: number; duration: number; requests: Array<{ setupRequest: (request: CannonRequest) => CannonRequest }> }) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface LevelRow {
  engine: Target;
  concurrency: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  completed: number;
  durationS: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** The issue's serving target; null on the ceiling's rows, which it does not apply to. */
  meetsTarget: boolean | null;
  /** From serving's /metrics, differences over this level (absent when serving does not export them). */
  servingCpuCores?: number;
  popularityFallbacks?: number;
  batch: Array<{ histogram: string; count: number; mean: number }>;
  cache: Array<{ series: string; value: number }>;
}
interface EngineRun {
  engine: Target;
  startupMs?: number;
  /** Value of any `engine` label serving exports, if it says which engine it runs. */
  reportedEngine?: string;
  levels: LevelRow[];
  failure?: string;
  servingExitCode?: number | null;
}

const backbone = await prepareBackbone();
const rng = createRng(seed);
const users = Array.from({ length: userCount }, (_, i) => `u${i}`);
const histories = users.map(() => Array.from({ length: 10 + rng.int(41) }, () => backbone.itemIds[rng.int(backbone.itemIds.length)] ?? 'i0'));
const pick = createRng(seed + 1);

const stack = await prepareStack({ env: process.env, topicPrefix: `bench-serve-${Date.now()}.`, say });
const runs: EngineRun[] = [];
let ceilingRun: EngineRun | undefined;
let current: ServiceProcess | undefined;
try {
  let producedFrom = Date.now();
  if (mode === 'get') producedFrom = await produceHistories();
  if (memoryWeight !== undefined) {
    await publishBenchSnapshot({ kafka: stack.kafka, adapters: stack.topics.adapters, backboneDir: backbone.dir, variant, memoryWeight, key: runSnapshotKey(process.env, snapshotKeyEnv) });
    say(`published a ${variant} snapshot (v1) with co-visit memory weight ${memoryWeight}: every request computes its history's memory`);
  }
  for (const engine of engines as Engine[]) runs.push(await benchTarget(engine, producedFrom));
  if (flags.ceiling) ceilingRun = await benchTarget('ceiling', producedFrom);
} finally {
  await current?.stop();
  await stack.localBroker?.stop();
}
const ratios = engineRatios();
const ceilingRatios = ceilingRun === undefined ? [] : toCeilingRatios(ceilingRun);
console.log(renderReport());
// A benchmark that could not measure, or measured failures, must not look like a clean run to a script.
if ([...runs, ...(ceilingRun ? [ceilingRun] : [])].some((r) => r.failure !== undefined || r.levels.some((l) => l.non2xx + l.errors > 0))) process.exitCode = 1;
if (flags.json) {
  const report = {
    settings: {
      backbone: backbone.dir,
      backboneId: backbone.backboneId,
      randomInit: backbone.randomInit,
      items: backbone.itemIds.length,
      variant,
      engines,
      concurrency,
      durationS,
      warmupS,
      users: userCount,
      k,
      mode,
      workers: workers ?? null,
      ceiling: flags.ceiling,
      memoryWeight: memoryWeight ?? null,
      seed,
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      brokers: stack.brokers,
      // Serving inherits this process's environment: RECO_* set in the shell change what it runs.
      inheritedServingEnv: Object.fromEntries(inheritedRecoEnv()),
      startedAt,
      finishedAt: new Date().toISOString(),
    },
    target: { ...TARGET, ceiling: CEILING_TARGET },
    runs,
    ratios,
    ...(ceilingRun === undefined ? {} : { ceiling: ceilingRun, ceilingRatios }),
  };
  await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
  say(`wrote ${flags.json}`);
}

async function prepareBackbone(): Promise<{ dir: string; itemIds: string[]; backboneId: string; randomInit: boolean }> {
  const dir = resolve(flags.backbone ?? join(repoRoot, '.cache', 'backbones', `bench-${items}items`));
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    if (flags.backbone !== undefined) throw new Error(`--backbone ${dir} has no manifest.json`);
    say(`creating a seeded random-init backbone of the default shape with ${items} items in ${dir} (once)`);
    // Loaded only here: the load generator itself never needs TF.js.
    const model = await import('@reco/model');
    await model.initBackend();
    const created = model.Backbone.random({ ...model.DEFAULT_BACKBONE_SHAPE, numItems: items }, createRng(seed));
    try {
      await model.saveCheckpoint(
        dir,
        created,
        Array.from({ length: items }, (_, i) => `i${i}`),
        { source: 'bench:serve', randomInit: true, seed },
      );
    } finally {
      created.dispose();
    }
  }
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { itemIds: string[]; weightsSha256: string; metadata?: { randomInit?: boolean } };
  say(`backbone ${dir}: ${manifest.itemIds.length} items, id ${manifest.weightsSha256.slice(0, 12)}`);
  return { dir, itemIds: manifest.itemIds, backboneId: manifest.weightsSha256, randomInit: manifest.metadata?.randomInit === true };
}

/** Every user's clicks, produced before serving starts so its history consumer reads them at start-up. */
async function produceHistories(): Promise<number> {
  const total = histories.reduce((n, h) => n + h.length, 0);
  say(`producing ${total} clicks for ${userCount} users to ${stack.topics.events.name}`);
  const producer = stack.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  try {
    let batch: Message[] = [];
    for (const [u, history] of histories.entries()) {
      const userId = users[u] ?? 'u0';
      for (const itemId of history) batch.push({ key: userId, value: encodeEvent({ userId, itemId, type: 'click', ts: Date.now() }) });
      if (batch.length >= 5000 || u === histories.length - 1) {
        await sendWithinLimit(producer, stack.topics.events, batch);
        batch = [];
      }
    }
  } finally {
    await producer.disconnect();
  }
  say(`produced in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return started;
}

/**
 * One run: a fresh serving process with `target`'s engine, or the ceiling server, in the same
 * environment (worker count included), warmed up, then driven at each concurrency level.
 */
async function benchTarget(target: Target, producedFrom: number): Promise<EngineRun> {
  const run: EngineRun = { engine: target, levels: [] };
  const isCeiling = target === 'ceiling';
  const processName = isCeiling ? 'the ceiling server' : 'serving';
  const env: Record<string, string> = {
    KAFKA_BROKERS: stack.brokers,
    RECO_TOPIC_PREFIX: stack.topics.events.name.replace(/reco\.events$/, ''),
    RECO_BACKBONE_DIR: backbone.dir,
    RECO_VARIANTS: variant,
    RECO_DEFAULT_VARIANT: variant,
    ...(isCeiling ? {} : { RECO_BACKBONE_ENGINE: target }),
    // Serving refuses to start without a key; it verifies the --memory-weight snapshot with it.
    ...snapshotKeyEnv,
    // Back to before the first click produced, plus a margin for clock steps.
    RECO_HISTORY_LOOKBACK_S: String(Math.ceil((Date.now() - producedFrom) / 1000) + 60),
    LOG_LEVEL: 'warn',
    // Serving's default keeps 100,000 users; more would evict the ones the requests ask for.
    ...(userCount > 100_000 ? { RECO_HISTORY_MAX_USERS: String(userCount) } : {}),
    ...(workers === undefined ? {} : { RECO_SERVING_WORKERS: String(workers) }),
  };
  const workersNote = workers === undefined ? '' : `RECO_SERVING_WORKERS=${workers}`;
  say(`${target}: starting ${processName} (${[isCeiling ? '' : `RECO_BACKBONE_ENGINE=${target}`, workersNote].filter(Boolean).join(', ') || 'inherited environment'})`);
  const started = Date.now();
  try {
    const service = isCeiling ? { name: 'ceiling', script: 'scripts/lib/ceiling-server.ts' } : 'serving';
    current = await startService(service, env, { readyTimeoutMs: 180_000, onUnexpectedExit: (code) => say(`${target}: ${processName} exited on its own with code ${code}`) });
    run.startupMs = Date.now() - started;
    const url = current.url;
    say(`${target}: ready in ${(run.startupMs / 1000).toFixed(1)} s at ${url}`);
    // The ceiling keeps no history and exports no /metrics.
    if (mode === 'get' && !isCeiling) await waitForHistories(url, target);
    if (memoryWeight !== undefined && !isCeiling) await waitForSnapshot(url, target);
    if (warmupS > 0) {
      const warm = await drive(url, Math.max(...concurrency), warmupS);
      say(`${target}: warm-up ${warmupS} s at concurrency ${Math.max(...concurrency)}: ${warm.requests.average.toFixed(0)} req/s (not reported)`);
    }
    for (const c of concurrency) {
      const before = isCeiling ? undefined : await scrapeMetrics(url).catch(() => undefined);
      const result = await drive(url, c, durationS);
      const after = isCeiling ? undefined : await scrapeMetrics(url).catch((error: unknown) => void say(`${target}: /metrics scrape failed: ${String(error)}`));
      const row = levelRow(target, c, result, before, after ?? undefined);
      run.levels.push(row);
      run.reportedEngine ??= after ? reportedEngine(after) : undefined;
      const problems = row.non2xx + row.errors > 0 ? `, ${row.non2xx} non-2xx and ${row.errors} errors` : '';
      say(`${target}: concurrency ${c}: ${row.reqPerSec.toFixed(0)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms${problems}`);
    }
  } catch (error) {
    run.failure = error instanceof Error ? error.message : String(error);
    // startService's message already carries the output of a process that never became ready.
    const output = current ? `\n${processName} output (tail):\n${current.output().slice(-4000)}` : '';
    say(`${target}: FAILED: ${condense(run.failure + output)}`);
  } finally {
    if (current) run.servingExitCode = await current.stop();
    current = undefined;
  }
  return run;
}

/** Until every worker answers with the published snapshot (several clean rounds, as for histories). */
async function waitForSnapshot(url: string, engine: Engine): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let clean = 0; clean < 4 * (workers ?? 1); ) {
    if (Date.now() > deadline) throw new Error(`serving did not apply the ${variant} snapshot within 60 s`);
    const body = (await (await fetch(`${url}/v1/models`)).json()) as { variants?: Array<{ variant: string; version: number }> };
    const live = body.variants?.find((v) => v.variant === variant);
    if ((live?.version ?? 0) >= 1) clean += 1;
    else {
      clean = 0;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  say(`${engine}: serving answers with the ${variant} snapshot (memory weight ${memoryWeight})`);
}

/** Until serving answers a sample of users (first, last and random ones) with their whole history. */
async function waitForHistories(url: string, engine: Engine): Promise<void> {
  const sample = [0, userCount - 1, ...Array.from({ length: 20 }, () => pick.int(userCount))];
  // With several workers each keeps its own history and answers some requests: several clean rounds.
  const cleanRoundsNeeded = 2 * (workers ?? 1);
  const deadline = Date.now() + 180_000;
  const started = Date.now();
  let cleanRounds = 0;
  let behind: string[] = [];
  while (cleanRounds < cleanRoundsNeeded) {
    if (Date.now() > deadline) throw new Error(`serving still missing history for ${behind.join(', ')} after 180 s`);
    behind = [];
    for (const u of sample) {
      const response = await fetch(`${url}/v1/recommendations?userId=${users[u]}&k=${k}`);
      const body = (await response.json()) as { historyLength?: number };
      if (!response.ok || (body.historyLength ?? 0) < (histories[u]?.length ?? 0)) behind.push(users[u] ?? '?');
    }
    // The sample can be complete while other partitions' backlog is still being consumed (and
    // learned into the co-visit counts), which would load serving during the measurement.
    if (behind.length === 0) {
      const lag = (await scrapeMetrics(url)).get('reco_consumer_lag')?.samples ?? [];
      const lagging = lag.filter((sample) => sample.value > 0);
      if (lagging.length > 0) behind.push(`consumer lag ${lagging.map((sample) => `${sample.labels.topic ?? '?'}[${sample.labels.partition ?? '?'}]=${sample.value}`).join(', ')}`);
    }
    cleanRounds = behind.length === 0 ? cleanRounds + 1 : 0;
    if (behind.length > 0) await new Promise((r) => setTimeout(r, 250));
  }
  say(`${engine}: serving has the histories of the ${sample.length} sampled users (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function drive(url: string, connections: number, duration: number): Promise<CannonResult> {
  const post = (): CannonRequest => {
    const history = Array.from({ length: 10 + pick.int(41) }, () => backbone.itemIds[pick.int(backbone.itemIds.length)] ?? 'i0');
    const body = JSON.stringify({ userId: users[pick.int(userCount)], k, history });
    return { method: 'POST', path: '/v1/recommendations', headers: { 'content-type': 'application/json' }, body };
  };
  const setupRequest =
    mode === 'get'
      ? (request: CannonRequest): CannonRequest => ({ ...request, method: 'GET', path: `/v1/recommendations?userId=${users[pick.int(userCount)]}&k=${k}` })
      : (request: CannonRequest): CannonRequest => ({ ...request, ...post(), headers: { ...request.headers, 'content-type': 'application/json' } });
  return autocannon({ url, connections, duration, requests: [{ setupRequest }] });
}

function levelRow(engine: Target, c: number, result: CannonResult, before: Map<string, MetricFamily> | undefined, after: Map<string, MetricFamily> | undefined): LevelRow {
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  const row: LevelRow = {
    engine,
    concurrency: c,
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    completed: result.requests.total,
    durationS: result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    meetsTarget: engine === 'ceiling' ? null : result.requests.average >= TARGET.reqPerSec && result.latency.p99 <= TARGET.p99Ms && result.non2xx + result.errors === 0,
    batch: [],
    cache: [],
  };
  if (!after) return row;
  const delta = (name: string): number | undefined => {
    const family = after.get(name);
    return family ? sampleDelta(before?.get(name), family).reduce((sum, s) => sum + s.value, 0) : undefined;
  };
  const cpu = delta('process_cpu_seconds_total');
  if (cpu !== undefined) row.servingCpuCores = cpu / result.duration;
  const fallbacks = after.get('reco_recommendations_total');
  if (fallbacks) row.popularityFallbacks = sampleDelta(before?.get(fallbacks.name), fallbacks).filter((s) => s.labels.fallback === 'popularity').reduce((sum, s) => sum + s.value, 0);
  for (const family of after.values()) {
    if (family.type === 'histogram' && family.name.includes('batch')) {
      const { sum, count } = histogramTotals(sampleDelta(before?.get(family.name), family), family.name);
      row.batch.push({ histogram: family.name, count, mean: count > 0 ? sum / count : Number.NaN });
    } else if (family.type === 'counter' && family.name.includes('cache')) {
      for (const s of sampleDelta(before?.get(family.name), family)) if (!s.name.endsWith('_created')) row.cache.push({ series: seriesKey(s), value: s.value });
    }
  }
  return row;
}

/** RECO_* variables of this process's environment, which serving inherits (startService passes the environment on). */
function inheritedRecoEnv(): Array<[string, string]> {
  return Object.entries(process.env).flatMap(([name, value]) => (name.startsWith('RECO_') && value !== undefined ? [[name, value] as [string, string]] : []));
}

/** For cache counters labelled `result="hit"|"miss"`: hits / (hits + misses) per counter. */
function cacheHitShares(cache: LevelRow['cache']): Array<{ counter: string; hit: number; all: number }> {
  const totals = new Map<string, { hit: number; all: number }>();
  for (const { series, value } of cache) {
    const match = /^([^{]+)\{.*result="(hit|miss)"/.exec(series);
    if (!match?.[1]) continue;
    const t = totals.get(match[1]) ?? { hit: 0, all: 0 };
    t.all += value;
    if (match[2] === 'hit') t.hit += value;
    totals.set(match[1], t);
  }
  return [...totals].filter(([, t]) => t.all > 0).map(([counter, t]) => ({ counter, ...t }));
}

/** A process's last words without the one-line minified bundles some dependencies print on a crash. */
function condense(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && l.length <= 400);
  return lines.slice(-30).join('\n');
}

/** First line of a failure, plus its first `...Error: ...` line when that is further down (for the table). */
function headline(failure: string): string {
  const lines = failure.split('\n');
  const error = lines.slice(1).find((l) => /^\s*(\w+)?Error\b/.test(l) && l.length <= 400);
  return [lines[0]?.replace(/:\s*$/, ''), error?.trim()].filter(Boolean).join(': ').replaceAll('|', '/');
}

function reportedEngine(families: Map<string, MetricFamily>): string | undefined {
  for (const family of families.values()) for (const s of family.samples) if (s.labels.engine !== undefined && s.value !== 0) return `${s.labels.engine} (${family.name})`;
  return undefined;
}

function engineRatios(): Array<{ concurrency: number; reqPerSecRatio: number; p99Ratio: number }> {
  const onnx = runs.find((r) => r.engine === 'onnx');
  const tfjs = runs.find((r) => r.engine === 'tfjs');
  if (!onnx || !tfjs) return [];
  return concurrency.flatMap((c) => {
    const a = onnx.levels.find((l) => l.concurrency === c);
    const b = tfjs.levels.find((l) => l.concurrency === c);
    return a && b ? [{ concurrency: c, reqPerSecRatio: a.reqPerSec / b.reqPerSec, p99Ratio: a.p99Ms / b.p99Ms }] : [];
  });
}

interface CeilingRatio {
  engine: Engine;
  concurrency: number;
  /** The engine's req/s over the ceiling's at this level. */
  reqPerSecRatio: number;
  p99Ms: number;
  ceilingP99Ms: number;
  /** Issue 12's criterion, judged at its concurrency level only (null at the others). */
  meetsTarget: boolean | null;
}

/** Each measured engine's levels against the ceiling's at the same concurrency. */
function toCeilingRatios(ceiling: EngineRun): CeilingRatio[] {
  const failures = (row: LevelRow): number => row.non2xx + row.errors;
  return runs.flatMap((run) =>
    concurrency.flatMap((c) => {
      const a = run.levels.find((l) => l.concurrency === c);
      const b = ceiling.levels.find((l) => l.concurrency === c);
      if (!a || !b || run.engine === 'ceiling') return [];
      const reqPerSecRatio = a.reqPerSec / b.reqPerSec;
      const judged = c === CEILING_TARGET.concurrency;
      const meetsTarget = judged ? reqPerSecRatio >= CEILING_TARGET.ratio && a.p99Ms <= CEILING_TARGET.p99Ms && failures(a) + failures(b) === 0 : null;
      return [{ engine: run.engine, concurrency: c, reqPerSecRatio, p99Ms: a.p99Ms, ceilingP99Ms: b.p99Ms, meetsTarget }];
    }),
  );
}

function renderReport(): string {
  const f0 = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
  const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
  // autocannon records whole milliseconds: 0 means under one.
  const ms = (n: number): string => (n === 0 ? '<1' : String(n));
  const lines = [
    `bench:serve: ${mode === 'get' ? `GET /v1/recommendations for ${userCount} users with 10-50 clicks of history each` : 'POST /v1/recommendations with a random 10-50 item history per request'}, k=${k}, variant ${variant}, ${durationS} s per level after a ${warmupS} s warm-up per engine`,
    `backbone ${backbone.dir} (${backbone.itemIds.length} items${backbone.randomInit ? ', seeded random-init weights: compute cost does not depend on what the weights learned' : ''})`,
    memoryWeight === undefined
      ? `model: ${variant} before any snapshot (co-visit memory weight 0: no request computes a memory; --memory-weight w publishes a snapshot that does)`
      : `model: a published ${variant} snapshot with co-visit memory weight ${memoryWeight}: every request computes its history's co-visit memory`,
    `machine: ${cpus().length} cores, node ${process.version}; autocannon runs in this process on the same cores as serving${workers === undefined ? '' : `; serving with ${workers} workers`}`,
    ...inheritedRecoEnv().map(([name, value]) => `serving inherits ${name}=${value} from this shell`),
    `target (issue): >= ${TARGET.reqPerSec.toLocaleString('en-US')} req/s with p99 <= ${TARGET.p99Ms} ms, variant ${TARGET.variant}, k=${TARGET.k}, no errors${variant !== TARGET.variant || k !== TARGET.k ? ` (NOTE: this run used variant ${variant}, k=${k})` : ''}`,
    ...(flags.ceiling ? [`ceiling: a bare Fastify server (scripts/lib/ceiling-server.ts) on the same worker count answering a fixed ${TARGET.k}-item body, same requests and autocannon settings, measured after the engines`] : []),
    '',
    '| engine | concurrency | req/s | p50 ms | p99 ms | non-2xx+errors | meets target | serving CPU (cores) | batch / cache (serving /metrics) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const run of [...runs, ...(ceilingRun ? [ceilingRun] : [])]) {
    if (run.failure !== undefined) lines.push(`| ${run.engine} | - | - | - | - | RUN FAILED: ${headline(run.failure)} | ${run.engine === 'ceiling' ? 'n/a (ceiling)' : 'no'} | - | - |`);
    for (const row of run.levels) {
      const bad = row.non2xx + row.errors;
      const codes = Object.entries(row.statusCodes)
        .filter(([code]) => !code.startsWith('2'))
        .map(([code, n]) => `${code}x${n}`)
        .join(' ');
      const problems = bad === 0 ? '0' : `${bad} ERRORS (non-2xx ${row.non2xx}${codes ? `: ${codes}` : ''}; errors ${row.errors}, timeouts ${row.timeouts})`;
      const why = row.meetsTarget === null ? 'n/a (ceiling)' : row.meetsTarget ? 'yes' : `no (${[row.reqPerSec < TARGET.reqPerSec ? 'req/s' : '', row.p99Ms > TARGET.p99Ms ? 'p99' : '', bad > 0 ? 'errors' : ''].filter(Boolean).join(', ')})`;
      const shares = cacheHitShares(row.cache);
      const extras = [
        ...row.batch.map((b) => (b.count === 0 ? `${b.histogram}: none` : `${b.histogram} mean ${b.histogram.endsWith('_seconds') ? `${f2(b.mean * 1000)} ms` : f2(b.mean)} (n=${f0(b.count)})`)),
        ...shares.map((h) => `${h.counter} hit ${f0(h.hit)} / miss ${f0(h.all - h.hit)} (${(100 * h.hit / h.all).toFixed(1)}% hits)`),
        ...row.cache.filter((c) => !shares.some((h) => c.series.startsWith(`${h.counter}{`))).map((c) => `${c.series} +${f0(c.value)}`),
        ...(row.popularityFallbacks ? [`${f0(row.popularityFallbacks)} popularity fallbacks`] : []),
      ];
      const metricsNote = row.engine === 'ceiling' ? 'n/a (no /metrics)' : extras.join('; ') || 'none exported';
      lines.push(`| ${row.engine} | ${row.concurrency} | ${f0(row.reqPerSec)} | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${problems} | ${why} | ${row.servingCpuCores === undefined ? 'n/a' : f2(row.servingCpuCores)} | ${metricsNote} |`);
    }
  }
  const failedRequests = [...runs, ...(ceilingRun ? [ceilingRun] : [])].flatMap((r) => r.levels).reduce((n, row) => n + row.non2xx + row.errors, 0);
  if (failedRequests > 0) lines.push('', `WARNING: ${failedRequests} requests got a non-2xx answer or a connection error; their latencies are included in the rows above`);
  const cached = runs.flatMap((r) => r.levels.flatMap((row) => cacheHitShares(row.cache))).reduce((t, h) => ({ hit: t.hit + h.hit, all: t.all + h.all }), { hit: 0, all: 0 });
  if (cached.all > 0 && cached.hit / cached.all > 0.5) {
    lines.push(
      '',
      `NOTE: ${((100 * cached.hit) / cached.all).toFixed(1)}% of backbone lookups were cache hits: the backbone engine seldom ran, so these rows (and the engine ratio) mostly measure HTTP, scoring and top-k.` +
        ' To measure the engine, use --mode post (a random history per request) or turn the cache off (e.g. RECO_BACKBONE_CACHE_ENTRIES=0 in the environment, which serving inherits).',
    );
  }
  const failedRuns = runs.filter((r) => r.failure !== undefined).map((r) => r.engine);
  if (failedRuns.length > 0) lines.push('', `WARNING: no figures for ${failedRuns.join(', ')}: serving did not run (stderr and --json have the reason)`);
  if (ceilingRun?.failure !== undefined) lines.push('', 'WARNING: no ceiling figures: the ceiling server did not run (stderr and --json have the reason)');
  lines.push('');
  if (ratios.length > 0) {
    lines.push('| concurrency | req/s onnx/tfjs | p99 onnx/tfjs |', '| --- | --- | --- |');
    for (const r of ratios) lines.push(`| ${r.concurrency} | ${f2(r.reqPerSecRatio)} | ${f2(r.p99Ratio)} |`);
  } else lines.push('no onnx/tfjs ratio: the run did not measure both engines');
  if (flags.ceiling) {
    lines.push(
      '',
      `target (issue 12): the recommendation route >= ${CEILING_TARGET.ratio}x the ceiling's req/s with p99 <= ${CEILING_TARGET.p99Ms} ms at ${CEILING_TARGET.concurrency} connections, no errors`,
    );
    if (ceilingRatios.length > 0) {
      lines.push('', '| engine | concurrency | req/s x ceiling | p99 ms (engine / ceiling) | meets ceiling target |', '| --- | --- | --- | --- | --- |');
      for (const r of ceilingRatios) {
        const verdict = r.meetsTarget === null ? `n/a (judged at ${CEILING_TARGET.concurrency})` : r.meetsTarget ? 'yes' : 'no';
        lines.push(`| ${r.engine} x ceiling | ${r.concurrency} | ${f2(r.reqPerSecRatio)} | ${ms(r.p99Ms)} / ${ms(r.ceilingP99Ms)} | ${verdict} |`);
      }
    } else lines.push('no x ceiling ratio: the ceiling or every engine has no figures');
    if (!concurrency.includes(CEILING_TARGET.concurrency)) lines.push(`NOTE: the ceiling target is judged at ${CEILING_TARGET.concurrency} connections, which this run did not measure (--concurrency)`);
  }
  for (const run of runs) {
    if (run.failure !== undefined) {
      lines.push(`${run.engine}: did not run`);
      continue;
    }
    lines.push(`${run.engine}: ${run.reportedEngine ? `serving reports engine ${run.reportedEngine}` : 'serving does not report which engine it ran (no metric with an `engine` label): until RECO_BACKBONE_ENGINE is wired, every run uses the same engine'}`);
  }
  return lines.join('\n');
}
