/**
 * `npm run bench:fresh`: how fresh is what serving answers with?
 *
 * Starts (or uses, with KAFKA_BROKERS) a broker, the updater and serving as their own processes
 * on fresh topics, then produces clicks at a steady rate straight to `reco.events` (so every click
 * has a known partition and offset) and measures, per click:
 *   - click -> live snapshot: production time to the moment serving applied a snapshot whose
 *     trained-up-to offsets cover that click (read from GET /v1/models: offsets and appliedAt),
 *     split at the snapshot's publishedAt (stamped by the updater once what it covers is
 *     trained, before the gate and the send) into the updater's part and the rest;
 *   - click -> history: for probe users, production time to the first GET /v1/recommendations
 *     that counts the click in the user's history.
 * Prints p50 / p95 / max of each (and writes them as JSON with --json).
 *
 * Flags: --rate N (clicks/s, default 1000)  --seconds N (default 20)  --variant ladder
 *        --publish-interval-ms N (default 1000)  --json <file>
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createSyntheticWorld } from '@reco/data';
import { encodeEvent } from '@reco/stream';
import { scrapeMetrics } from './lib/metrics-scrape.js';
import { startService, type ServiceProcess } from './lib/service-process.js';
import { runSnapshotKeyEnv } from './lib/snapshot-key.js';
import { ensureBackbone, prepareStack } from './lib/stack.js';

const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    variant: { type: 'string', default: 'ladder' },
    'publish-interval-ms': { type: 'string', default: '1000' },
    json: { type: 'string' },
  },
});
const rate = Number(flags.rate);
const seconds = Number(flags.seconds);
const say = (message: string): void => void process.stderr.write(`[bench:fresh] ${message}\n`);

interface SentClick {
  sentAt: number;
  partition: number;
  offset: bigint;
}
interface Applied {
  seenAt: number;
  /** When the updater published it (its clock; one machine here, so comparable with ours). */
  publishedAt: number | null;
  appliedAt: number;
  offsets: Record<string, string>;
}

const stack = await prepareStack({ env: process.env, topicPrefix: `bench-fresh-${Date.now()}.`, say });
const services: ServiceProcess[] = [];
try {
  const backboneDir = await ensureBackbone({ env: process.env, say });
  const env = {
    KAFKA_BROKERS: stack.brokers,
    RECO_TOPIC_PREFIX: stack.topics.events.name.replace(/reco\.events$/, ''),
    RECO_BACKBONE_DIR: backboneDir,
    RECO_VARIANTS: flags.variant,
    RECO_DEFAULT_VARIANT: flags.variant,
    RECO_PUBLISH_INTERVAL_MS: flags['publish-interval-ms'],
    RECO_GROUP_ID: `${stack.topics.events.name}.updater`,
    LOG_LEVEL: 'warn',
    // One key for the run: the updater signs, serving verifies.
    ...runSnapshotKeyEnv(process.env),
  };
  services.push(...(await Promise.all([startService('updater', env), startService('serving', env)])));
  const [updater, serving] = services;
  if (!updater || !serving) throw new Error('the updater or serving did not start');

  const world = createSyntheticWorld();
  const clicks = world.stream.filter((e) => e.type === 'click');
  const partitions = stack.topics.events.numPartitions;
  const producer = stack.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();

  // Serving's view of the variant, polled: each new version with its offsets and apply time.
  const applied: Applied[] = [];
  let polling = true;
  const poller = (async () => {
    let lastVersion = -1;
    while (polling) {
      const body = (await (await fetch(`${serving.url}/v1/models`)).json()) as { variants: Array<{ variant: string; version: number; publishedAt: number | null; appliedAt: number; offsets: Record<string, string> }> };
      const live = body.variants.find((v) => v.variant === flags.variant);
      if (live && live.version !== lastVersion) {
        lastVersion = live.version;
        applied.push({ seenAt: Date.now(), publishedAt: live.publishedAt, appliedAt: live.appliedAt, offsets: live.offsets });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  // Clicks at a steady rate; partition chosen per user like a keyed producer would.
  const sent: SentClick[] = [];
  const historyLatencies: number[] = [];
  const probes: Promise<void>[] = [];
  // Paced by the clock, not by ticks: each round sends what the rate owes by now, so a slow send
  // (a produce round trip over 10 ms) is made up in the next round instead of lowering the rate.
  let tick = 0;
  const started = Date.now();
  let cursor = 0;
  say(`producing ${rate} clicks/s for ${seconds} s`);
  while (Date.now() - started < seconds * 1000) {
    const tickStart = Date.now();
    const owed = Math.floor((rate * (Date.now() - started)) / 1000) - sent.length;
    if (owed <= 0) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    tick += 1;
    const batch = Array.from({ length: owed }, () => {
      const e = clicks[cursor++ % clicks.length];
      const user = e?.userId ?? 'u0';
      return { userId: user, itemId: e?.itemId ?? 'i0', partition: Number(user.replace(/\D/g, '') || 0) % partitions };
    });
    // Every 20th tick also a brand-new probe user, whose history must show the click.
    const probeUser = tick % 20 === 0 ? `probe-${cursor}` : undefined;
    if (probeUser) batch.push({ userId: probeUser, itemId: batch[0]?.itemId ?? 'i0', partition: 0 });
    const sentAt = Date.now();
    const meta = await producer.send({
      topic: stack.topics.events.name,
      acks: -1,
      messages: batch.map((c) => ({ key: c.userId, partition: c.partition, value: encodeEvent({ userId: c.userId, itemId: c.itemId, type: 'click', ts: sentAt }) })),
    });
    const base = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? '0')]));
    const seen = new Map<number, bigint>();
    for (const c of batch) {
      const index = seen.get(c.partition) ?? 0n;
      seen.set(c.partition, index + 1n);
      sent.push({ sentAt, partition: c.partition, offset: (base.get(c.partition) ?? 0n) + index });
    }
    if (probeUser) probes.push(probeHistory(serving.url, probeUser, sentAt).then((ms) => void (ms !== null && historyLatencies.push(ms))));
    const wait = 10 - (Date.now() - tickStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const achieved = sent.length / ((Date.now() - started) / 1000);
  say(`produced ${sent.length} clicks (${achieved.toFixed(0)}/s); waiting for the last snapshots`);
  await Promise.all(probes);
  await new Promise((r) => setTimeout(r, 2 * Number(flags['publish-interval-ms']) + 3000));
  polling = false;
  await poller;
  await producer.disconnect();
  // A candidate the validation gate refuses is not published: its clicks wait for the next one.
  const updaterMetrics = await scrapeMetrics(updater.url);
  const total = (name: string): number => (updaterMetrics.get(name)?.samples ?? []).filter((s) => s.labels.variant === flags.variant).reduce((sum, s) => sum + s.value, 0);
  const published = total('reco_snapshots_published_total');
  const refused = total('reco_snapshots_rejected_total');

  const snapshotLatencies: number[] = [];
  // The same path in two parts: the updater's (consume, train, wait for the publish policy) up to
  // the snapshot's publishedAt, taken once what it covers is trained; and from there the gate,
  // signing, the transaction, serving's consumer and the swap.
  const updaterLatencies: number[] = [];
  const publishToApply = applied.filter((a) => a.publishedAt !== null).map((a) => a.appliedAt - (a.publishedAt as number));
  let uncovered = 0;
  for (const click of sent) {
    const first = applied.find((a) => BigInt(a.offsets[String(click.partition)] ?? '0') > click.offset);
    if (first) {
      snapshotLatencies.push(first.appliedAt - click.sentAt);
      if (first.publishedAt !== null) updaterLatencies.push(first.publishedAt - click.sentAt);
    } else uncovered += 1;
  }
  const report = {
    variant: flags.variant,
    targetClicksPerSec: rate,
    achievedClicksPerSec: Math.round(achieved),
    seconds,
    publishIntervalMs: Number(flags['publish-interval-ms']),
    clickToLiveSnapshotMs: summary(snapshotLatencies),
    clickToPublishedAtMs: summary(updaterLatencies),
    publishedAtToAppliedMs: summary(publishToApply),
    clicksNotLiveAtEnd: uncovered,
    clickToHistoryMs: summary(historyLatencies),
    snapshotsApplied: applied.length,
    snapshotsPublished: published,
    candidatesRefusedByGate: refused,
  };
  console.log(
    [
      `variant ${report.variant}, ${report.achievedClicksPerSec} clicks/s for ${seconds} s (target ${rate}), publish interval ${report.publishIntervalMs} ms`,
      `| measure | n | p50 ms | p95 ms | max ms |`,
      `| --- | --- | --- | --- | --- |`,
      `| click -> live snapshot in serving | ${report.clickToLiveSnapshotMs.n} | ${report.clickToLiveSnapshotMs.p50} | ${report.clickToLiveSnapshotMs.p95} | ${report.clickToLiveSnapshotMs.max} |`,
      `| of which click -> trained into a snapshot (its publishedAt) | ${report.clickToPublishedAtMs.n} | ${report.clickToPublishedAtMs.p50} | ${report.clickToPublishedAtMs.p95} | ${report.clickToPublishedAtMs.max} |`,
      `| and publishedAt -> applied in serving (gate, send, consume, swap; per snapshot) | ${report.publishedAtToAppliedMs.n} | ${report.publishedAtToAppliedMs.p50} | ${report.publishedAtToAppliedMs.p95} | ${report.publishedAtToAppliedMs.max} |`,
      `| click -> user history in serving | ${report.clickToHistoryMs.n} | ${report.clickToHistoryMs.p50} | ${report.clickToHistoryMs.p95} | ${report.clickToHistoryMs.max} |`,
      `${uncovered} clicks not in a live snapshot when the run ended; ${published} snapshots published, ${applied.length} applied; ${refused} candidates refused by the validation gate`,
    ].join('\n'),
  );
  if (flags.json) await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await Promise.all(services.map((s) => s.stop()));
  await stack.localBroker?.stop();
}

async function probeHistory(baseUrl: string, userId: string, sentAt: number): Promise<number | null> {
  while (Date.now() - sentAt < 10_000) {
    const answer = (await (await fetch(`${baseUrl}/v1/recommendations?userId=${userId}&k=1`)).json()) as { historyLength?: number };
    if ((answer.historyLength ?? 0) >= 1) return Date.now() - sentAt;
    await new Promise((r) => setTimeout(r, 5));
  }
  return null;
}

function summary(values: number[]): { n: number; p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? Number.NaN };
}
