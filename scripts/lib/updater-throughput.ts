import type { Interaction } from '@reco/data';
import { snapshotTrust } from '@reco/model';
import { coversBacklog, produceClickBacklog } from './click-backlog.js';
import { peakRssMbOf } from './proc-memory.js';
import { scrapeMetrics, type MetricFamily } from './metrics-scrape.js';
import { startService, type ServiceProcess } from './service-process.js';
import { runSnapshotKey, runSnapshotKeyEnv } from './snapshot-key.js';
import { watchSnapshots, type SeenSnapshot } from './snapshot-watch.js';
import type { Stack } from './stack.js';

export interface ThroughputRow {
  method: string;
  status: 'ok' | 'timed out';
  clicksProduced: number;
  /** Clicks in the last snapshot seen (all of them when status is ok): published means trained. */
  clicksTrained: number;
  /** Clicks the updater had read and queued for training when the run ended (its examples counter). */
  clicksFed: number | null;
  /** Clock start to the publish time of the snapshot that covered the backlog (or of the last one, when timed out). */
  seconds: number | null;
  clicksPerSec: number | null;
  steps: number | null;
  timeToFirstSnapshotS: number | null;
  snapshotsPublished: number;
  snapshotsRejected: number | null;
  /** The updater's peak RSS (VmHWM) when the run ended; null off Linux. */
  peakRssMb: number | null;
  produceSeconds: number;
  /** Spawning the updater to the clock start (process start, backbone load, Kafka, group join). */
  startupSeconds: number;
  /** What started the clock (see `clockStartFromLog`). */
  clockStart: ClockStart;
  /** How long after the clock start /readyz was first seen answering 200 (the bias avoided). */
  readyzLagS: number;
  /**
   * What the updater runs the frozen backbone on for ladder variants (reco_backbone_engine_info; the
   * other methods backpropagate through the TF.js backbone whatever it says); null if it does not say.
   */
  backboneEngine: string | null;
  /** Exit code of the graceful stop (null: killed after the stop timeout). */
  stopExitCode: number | null;
  /** Variants of this method the one updater trained side by side on the same clicks. */
  variants: number;
  /** The updater's activation-cache lookups (reco_backbone_cache_lookups_total), null if not exported. */
  cacheHits: number | null;
  cacheMisses: number | null;
}

export type ClockStart = 'consumer joined' | 'updater started' | '/readyz';

export interface ThroughputOptions {
  /** Topics of this method alone: a fresh prefix per method. */
  stack: Stack;
  topicPrefix: string;
  method: string;
  clicks: readonly Interaction[];
  count: number;
  backboneDir: string;
  /** Extra updater environment (RECO_BATCH_SIZE, RECO_BACKBONE_ENGINE... only when asked). */
  env: Record<string, string>;
  publishIntervalMs: number;
  timeoutMs: number;
  /**
   * Variants of the method trained by the one updater (`ladder`, `ladder-2:ladder`, ...): with
   * several ladder variants, the shared activation cache runs each click's forward once. The clock
   * stops when every variant has a snapshot covering the backlog. Default 1.
   */
  variants?: number;
  progressEveryMs?: number;
  say: (message: string) => void;
}

/**
 * The updater's maximum sustained training throughput for one method: the whole backlog is on the
 * events topic before the updater starts, so from the moment it is ready it never waits for input.
 * The clock starts when the updater can first read the backlog (see `clockStartFromLog`) and stops
 * at the publish time of the first snapshot whose trained-up-to offsets cover every produced click:
 * the updater drains its backlog before publishing, so such a snapshot means every click was scored
 * and trained on, and nothing else is as exact from outside the process. The timeout counts from
 * the clock start; a method that hits it reports the clicks in its last snapshot and their rate.
 */
export async function measureUpdaterThroughput(options: ThroughputOptions): Promise<ThroughputRow> {
  const { stack, method, count, say } = options;
  const names = Array.from({ length: options.variants ?? 1 }, (_, i) => (i === 0 ? method : `${method}-${i + 1}`));
  const backlog = await produceClickBacklog({ kafka: stack.kafka, events: stack.topics.events, clicks: options.clicks, count });
  say(`${method}: ${count} clicks on ${stack.topics.events.name} in ${(backlog.produceMs / 1000).toFixed(1)} s; starting the updater`);
  // The updater inherits this process's environment under options.env (startService).
  const inherited = { ...process.env, ...options.env };
  const keyEnv = runSnapshotKeyEnv(inherited);
  const key = runSnapshotKey(inherited, keyEnv);
  const watch = await watchSnapshots(stack.kafka, stack.topics.adapters, snapshotTrust(key, key === undefined));
  let updater: ServiceProcess | undefined;
  let crashed: number | null | undefined;
  try {
    const spawnedAt = Date.now();
    const groupId = `${options.topicPrefix}updater`;
    updater = await startService(
      'updater',
      {
        ...options.env,
        ...keyEnv,
        KAFKA_BROKERS: stack.brokers,
        RECO_TOPIC_PREFIX: options.topicPrefix,
        RECO_GROUP_ID: groupId,
        RECO_VARIANTS: names.map((n) => (n === method ? n : `${n}:${method}`)).join(','),
        RECO_BACKBONE_DIR: options.backboneDir,
        RECO_PUBLISH_INTERVAL_MS: String(options.publishIntervalMs),
        // The clock starts at lines of its info log (clockStartFromLog), read as JSON lines.
        LOG_LEVEL: 'info',
        RECO_LOG_PRETTY: '0',
      },
      { onUnexpectedExit: (code) => (crashed = code) },
    );
    const noticedAt = Date.now();
    const logged = clockStartFromLog(updater.output(), groupId, spawnedAt, noticedAt);
    const clockStartAt = logged?.at ?? noticedAt;
    if (!logged) say(`${method}: warning: neither the group join nor "updater started" is in the updater's log; timing from when /readyz was first seen (may be late)`);
    const deadline = clockStartAt + options.timeoutMs;
    const progressEveryMs = options.progressEveryMs ?? 5000;
    let nextProgress = Date.now() + progressEveryMs;
    let covering: SeenSnapshot | undefined;
    while (!covering && Date.now() < deadline) {
      if (crashed !== undefined) throw new Error(`the ${method} updater exited with code ${String(crashed)}:\n${updater.output().slice(-4000)}`);
      const covered = names.map((n) => watch.seen.find((s) => s.meta.variant === n && coversBacklog(s.meta.offsets, backlog.endOffsets)));
      // The run ends with the last variant to cover the backlog.
      covering = covered.every((c) => c !== undefined) ? covered.reduce((a, b) => ((b?.meta.publishedAt ?? 0) > (a?.meta.publishedAt ?? 0) ? b : a)) : undefined;
      if (!covering && Date.now() >= nextProgress) {
        nextProgress += progressEveryMs;
        say(`${method}: ${progressLine(watch.seen.at(-1), count, clockStartAt, await scrape(updater.url), method)}`);
      }
      if (!covering) await new Promise((r) => setTimeout(r, 100));
    }
    const metrics = await scrape(updater.url);
    const peakRssMb = await peakRssMbOf(updater.pid);
    const last = covering ?? watch.seen.filter((s) => s.meta.variant === method).at(-1);
    const first = watch.seen.find((s) => s.meta.variant === method);
    const seconds = last ? (last.meta.publishedAt - clockStartAt) / 1000 : (Date.now() - clockStartAt) / 1000;
    const clicksTrained = last?.meta.examplesTrained ?? 0;
    const row = {
      method,
      status: covering ? 'ok' : 'timed out',
      clicksProduced: count,
      clicksTrained,
      clicksFed: sampleSum(metrics, 'reco_updater_examples_trained_total', { variant: method }) ?? null,
      seconds,
      clicksPerSec: seconds > 0 ? clicksTrained / seconds : null,
      steps: sampleSum(metrics, 'reco_training_steps_total', { variant: method }) ?? null,
      timeToFirstSnapshotS: first ? (first.meta.publishedAt - clockStartAt) / 1000 : null,
      snapshotsPublished: watch.seen.filter((s) => s.meta.variant === method).length,
      snapshotsRejected: sampleSum(metrics, 'reco_snapshots_rejected_total', { variant: method }) ?? null,
      peakRssMb,
      produceSeconds: backlog.produceMs / 1000,
      startupSeconds: (clockStartAt - spawnedAt) / 1000,
      clockStart: logged?.source ?? '/readyz',
      readyzLagS: (noticedAt - clockStartAt) / 1000,
      backboneEngine: backboneEngine(metrics),
      stopExitCode: null,
      variants: names.length,
      cacheHits: sampleSum(metrics, 'reco_backbone_cache_lookups_total', { result: 'hit' }) ?? null,
      cacheMisses: sampleSum(metrics, 'reco_backbone_cache_lookups_total', { result: 'miss' }) ?? null,
    } satisfies ThroughputRow;
    if (watch.undecodable.length > 0) say(`${method}: warning: ${watch.undecodable.length} undecodable snapshot message(s): ${watch.undecodable[0]}`);
    say(
      covering
        ? `${method}: ${count} clicks trained in ${seconds.toFixed(1)} s (${Math.round(row.clicksPerSec ?? 0)} clicks/s); stopping the updater`
        : `${method}: timed out after ${options.timeoutMs / 1000} s with ${clicksTrained} of ${count} clicks in a snapshot; stopping the updater`,
    );
    const stopExitCode = await updater.stop();
    updater = undefined;
    return { ...row, stopExitCode };
  } finally {
    await updater?.stop();
    await watch.stop();
  }
}

type Metrics = ReadonlyMap<string, MetricFamily>;

/** The updater's metrics, or none when it does not answer (the figures are then reported as unknown). */
async function scrape(url: string): Promise<Metrics> {
  try {
    return await scrapeMetrics(url);
  } catch {
    return new Map();
  }
}

/**
 * Sum of a family's samples whose labels include `labels`: 0 when the family has no such series yet
 * (a labelled counter appears only once incremented), undefined when the updater does not export it.
 */
function sampleSum(metrics: Metrics, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = metrics.get(name);
  if (!family) return undefined;
  let sum = 0;
  for (const sample of family.samples) {
    if (sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) sum += sample.value;
  }
  return sum;
}

/** The engine the updater reports running its frozen backbone on (reco_backbone_engine_info), if it reports one. */
function backboneEngine(metrics: Metrics): string | null {
  return metrics.get('reco_backbone_engine_info')?.samples.find((s) => s.value === 1)?.labels.engine ?? null;
}

function progressLine(latest: SeenSnapshot | undefined, count: number, clockStartAt: number, metrics: Metrics, method: string): string {
  const elapsed = (Date.now() - clockStartAt) / 1000;
  const trained = latest?.meta.examplesTrained ?? 0;
  const fed = sampleSum(metrics, 'reco_updater_examples_trained_total', { variant: method });
  const steps = sampleSum(metrics, 'reco_training_steps_total', { variant: method });
  const rate = latest ? trained / Math.max(1e-3, (latest.meta.publishedAt - clockStartAt) / 1000) : 0;
  return [
    `${trained}/${count} clicks trained in a snapshot${latest ? ` (v${latest.meta.version}, ${Math.round(rate)} clicks/s)` : ''}`,
    `${fed ?? '?'} read`,
    `${steps ?? '?'} steps`,
    `${elapsed.toFixed(0)} s`,
  ].join(', ');
}

/**
 * When the updater could first read the backlog, from the time stamps of its own log: its events
 * consumer joining the group (the consumer seam's "consumer joined its group" line for our group id),
 * else its "updater started" line. Not the moment /readyz is first seen answering 200: the updater
 * declares itself ready only after seeking its partitions, and by then its consumer has already
 * fetched and started training; each step blocks its event loop, so the seek and the 200 queue
 * behind training. Measured here: readiness up to 3 s after the join for adapter, and the 200 up to
 * 4.7 s after "updater started" for bitfit, on a 3,000-click backlog; the join came 40-70 ms before
 * "updater started" otherwise. Undefined when neither line is there with a plausible time.
 */
function clockStartFromLog(output: string, groupId: string, spawnedAt: number, noticedAt: number): { at: number; source: ClockStart } | undefined {
  let found: { at: number; source: ClockStart } | undefined;
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { time?: unknown; msg?: unknown; groupId?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const source: ClockStart | undefined =
      entry.msg === 'consumer joined its group' && entry.groupId === groupId ? 'consumer joined' : entry.msg === 'updater started' ? 'updater started' : undefined;
    // pino's `time` is epoch milliseconds.
    const at = typeof entry.time === 'number' ? entry.time : Number.NaN;
    if (source === undefined || !(at >= spawnedAt && at <= noticedAt)) continue;
    if (!found || at < found.at) found = { at, source };
  }
  return found;
}
