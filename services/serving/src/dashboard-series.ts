import type { LiveModelMeta } from './live-model.js';
import type { ServingMetrics } from './metrics.js';

/** One applied snapshot's online figures, as the updater published them with it. */
export interface FigurePoint {
  /** Epoch ms this replica started answering with the version (its swap, or a rollback to it). */
  at: number;
  version: number;
  hr10: number | null;
  ndcg10: number | null;
}

/** Traffic over one sampling interval, per second. */
export interface TrafficPoint {
  at: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  /** Upper bound of the latency bucket holding the 99th percentile of the interval's requests; null without requests. */
  p99Ms: number | null;
}

/** What the series reads of the live-model registry (LiveModels). */
export interface LiveVariants {
  variants(): string[];
  current(variant: string): { readonly meta: LiveModelMeta } | undefined;
}

function figure(meta: LiveModelMeta, name: string): number | null {
  const value = meta.figures[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * The A/B view's memory: per variant, the prequential HR@10 and NDCG@10 of every version this
 * replica answered with, newest last, at most `capacity` points each (old points fall off, so a
 * replica that runs for weeks holds a bounded series).
 *
 * It watches the live-model registry rather than being told about swaps: the registry is the one
 * owner of what answers, so reading it sees snapshot swaps and rollbacks alike, and the snapshot
 * path needs no dashboard hook. A change is noticed at the next `sample()` (each second, and on
 * every GET /v1/dashboard), so a version that answered for less than that may get no point: the
 * updater publishes seconds apart (RECO_PUBLISH_INTERVAL_MS), so in practice none is missed.
 */
export class FigureSeries {
  readonly capacity: number;
  readonly #points = new Map<string, FigurePoint[]>();
  /** The meta object last seen answering per variant: models are immutable, so identity means "same version". */
  readonly #seen = new Map<string, LiveModelMeta>();

  constructor(capacity = 720) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  sample(models: LiveVariants, now = Date.now()): void {
    for (const variant of models.variants()) {
      const meta = models.current(variant)?.meta;
      if (meta === undefined || this.#seen.get(variant) === meta) continue;
      this.#seen.set(variant, meta);
      const points = this.#points.get(variant) ?? [];
      // A rollback brings back an older meta whose appliedAt is its first swap; that point is placed
      // at the moment it came back, so the series stays in time order.
      const after = points.at(-1)?.at ?? Number.NEGATIVE_INFINITY;
      points.push({ at: meta.appliedAt > after ? meta.appliedAt : Math.max(now, after), version: meta.version, hr10: figure(meta, 'prequentialHr10'), ndcg10: figure(meta, 'prequentialNdcg10') });
      if (points.length > this.capacity) points.splice(0, points.length - this.capacity);
      this.#points.set(variant, points);
    }
  }

  points(variant: string): FigurePoint[] {
    return (this.#points.get(variant) ?? []).map((p) => ({ ...p }));
  }
}

interface Totals {
  at: number;
  requests: number;
  events: number;
  /** Cumulative request counts per latency bucket upper bound (seconds), ascending; +Inf last. */
  buckets: Array<[number, number]>;
}

/**
 * Rates from serving's own prom-client counters, sampled on a clock: requests per second and their
 * p99 (from the latency histogram's bucket deltas), and events per second read from reco.events
 * into the history (every event of the stream, whoever posted it). Requests count only `/v1/` API
 * routes other than the dashboard's own, so a page polling itself does not show up as traffic.
 */
export class TrafficSeries {
  readonly capacity: number;
  readonly #metrics: ServingMetrics;
  readonly #points: TrafficPoint[] = [];
  #last: Totals | undefined;

  constructor(metrics: ServingMetrics, capacity = 120) {
    this.#metrics = metrics;
    this.capacity = capacity;
  }

  async sample(now = Date.now()): Promise<void> {
    const totals = await this.#totals(now);
    const last = this.#last;
    this.#last = totals;
    if (last === undefined || totals.at <= last.at) return;
    const seconds = (totals.at - last.at) / 1000;
    const requests = Math.max(0, totals.requests - last.requests);
    this.#points.push({
      at: totals.at,
      requestsPerSecond: requests / seconds,
      eventsPerSecond: Math.max(0, totals.events - last.events) / seconds,
      p99Ms: percentileMs(last.buckets, totals.buckets, 0.99),
    });
    if (this.#points.length > this.capacity) this.#points.splice(0, this.#points.length - this.capacity);
  }

  points(): TrafficPoint[] {
    return this.#points.map((p) => ({ ...p }));
  }

  async #totals(at: number): Promise<Totals> {
    const [histogram, consumed] = await Promise.all([this.#metrics.httpDuration.get(), this.#metrics.historyEventsConsumed.get()]);
    const byBound = new Map<number, number>();
    let requests = 0;
    for (const { labels: named, value, metricName } of histogram.values) {
      // Bucket rows carry `le` besides the declared labels; prom-client's type does not say so.
      const labels: Record<string, string | number | undefined> = named;
      const route = String(labels.route ?? '');
      if (!route.startsWith('/v1/') || route.startsWith('/v1/dashboard')) continue;
      if (metricName?.endsWith('_count') === true) requests += value;
      else if (metricName?.endsWith('_bucket') === true) {
        const bound = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
        byBound.set(bound, (byBound.get(bound) ?? 0) + value);
      }
    }
    const events = consumed.values.reduce((sum, v) => sum + v.value, 0);
    return { at, requests, events, buckets: [...byBound.entries()].sort((a, b) => a[0] - b[0]) };
  }
}

/**
 * The smallest bucket bound under which `q` of the interval's requests finished, in ms: as precise
 * as the histogram's buckets allow, which is what Prometheus' histogram_quantile would also see.
 * Beyond the last finite bound it answers that bound (the tail is "at least this slow").
 */
export function percentileMs(before: ReadonlyArray<[number, number]>, after: ReadonlyArray<[number, number]>, q: number): number | null {
  const earlier = new Map(before);
  const deltas = after.map(([bound, count]) => [bound, count - (earlier.get(bound) ?? 0)] as const);
  const total = deltas.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const finite = deltas.filter(([bound]) => Number.isFinite(bound));
  for (const [bound, count] of finite) if (count >= q * total) return bound * 1000;
  return (finite.at(-1)?.[0] ?? 0) * 1000;
}
