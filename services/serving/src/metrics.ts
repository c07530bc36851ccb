import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConsumerMetrics } from '@reco/stream';

/** Read at scrape time, so gauges of sizes never go stale and cost nothing between scrapes. */
export interface MetricSources {
  historyUsers(): number;
  historyEvents(): number;
  popularityItems(): number;
}

/**
 * Every Prometheus metric of the serving service, on its own registry (so several apps in one
 * test process never share counters). The names are listed in services/serving/README.md.
 */
export class ServingMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly recommendations: Counter<'variant' | 'fallback'>;
  readonly eventsAccepted: Counter;
  readonly eventsRejected: Counter;
  readonly historyEventsConsumed: Counter;
  readonly snapshotsApplied: Counter<'variant'>;
  readonly snapshotsRefused: Counter<'variant' | 'reason'>;
  readonly liveVersion: Gauge<'variant'>;
  readonly swaps: Counter<'variant' | 'kind'>;
  readonly freshness: Histogram<'variant'>;
  readonly snapshotsCaughtUp: Gauge;
  readonly modelsDisposed: Counter<'deferred'>;
  readonly consumerLag: Gauge<'service' | 'topic' | 'partition'>;
  readonly consumerUp: Gauge<'service' | 'topic'>;
  readonly consumerMessages: Counter<'service' | 'topic'>;
  readonly backboneEngine: Gauge<'engine'>;
  readonly backboneBatchRows: Histogram;
  readonly rankerBatchRows: Histogram;
  readonly backboneBatchWait: Histogram;
  readonly backboneCacheLookups: Counter<'result'>;
  #sources: MetricSources = { historyUsers: () => 0, historyEvents: () => 0, popularityItems: () => 0 };

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [(this.registry = new Registry())];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'reco_http_request_duration_seconds',
      help: 'HTTP request latency by route template, method and status code.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.recommendations = new Counter({
      name: 'reco_recommendations_total',
      help: 'Recommendation responses by the variant that answered; fallback="popularity" when the user had no history.',
      labelNames: ['variant', 'fallback'],
      registers,
    });
    this.eventsAccepted = new Counter({ name: 'reco_events_accepted_total', help: 'Events validated and acknowledged by Kafka (POST /v1/events).', registers });
    this.eventsRejected = new Counter({ name: 'reco_events_rejected_total', help: 'Events that failed validation and were dead-lettered (POST /v1/events).', registers });
    this.historyEventsConsumed = new Counter({ name: 'reco_history_events_consumed_total', help: 'Events read from reco.events into the per-user history.', registers });
    this.snapshotsApplied = new Counter({ name: 'reco_snapshots_applied_total', help: 'Adaptation snapshots swapped in.', labelNames: ['variant'], registers });
    this.snapshotsRefused = new Counter({
      name: 'reco_snapshots_refused_total',
      help: 'Adaptation snapshots refused (the previous version kept answering), by reason.',
      labelNames: ['variant', 'reason'],
      registers,
    });
    this.liveVersion = new Gauge({ name: 'reco_live_version', help: 'Snapshot version answering for each variant (0 = no snapshot yet).', labelNames: ['variant'], registers });
    this.swaps = new Counter({ name: 'reco_swaps_total', help: 'Live-model swaps by kind (snapshot or rollback).', labelNames: ['variant', 'kind'], registers });
    this.freshness = new Histogram({
      name: 'reco_snapshot_freshness_seconds',
      help: 'Event time of the newest event a snapshot was trained on, to the moment this replica applied it.',
      labelNames: ['variant'],
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 900],
      registers,
    });
    this.snapshotsCaughtUp = new Gauge({ name: 'reco_snapshots_caught_up', help: '1 once the snapshot consumer has read reco.adapters up to its end as of start-up.', registers });
    this.modelsDisposed = new Counter({
      name: 'reco_models_disposed_total',
      help: 'Retired model versions whose tensors were freed; deferred="true" when an in-flight request held them at retirement.',
      labelNames: ['deferred'],
      registers,
    });
    // Same name and labels as the updater's, so one dashboard panel shows every consumer's lag.
    this.consumerLag = new Gauge({
      name: 'reco_consumer_lag',
      help: 'Messages between the consumed position and the partition end, per consumer (service="serving": history and snapshots), measured after batches and every few seconds.',
      labelNames: ['service', 'topic', 'partition'],
      registers,
    });
    // Same names and labels as the updater's (the consumer seam's series), for the alert rules.
    this.consumerUp = new Gauge({
      name: 'reco_consumer_up',
      help: '1 while the consumer is running; 0 while it is starting, reconnecting to Kafka, failed or stopped.',
      labelNames: ['service', 'topic'],
      registers,
    });
    this.consumerMessages = new Counter({
      name: 'reco_consumer_messages_total',
      help: 'Messages handled per consumer: with reco_consumer_lag above zero and this flat, the consumer is stalled.',
      labelNames: ['service', 'topic'],
      registers,
    });
    this.backboneEngine = new Gauge({ name: 'reco_backbone_engine_info', help: 'The engine running the frozen backbone (onnx or tfjs): 1 for the one in use.', labelNames: ['engine'], registers });
    this.backboneBatchRows = new Histogram({
      name: 'reco_backbone_batch_rows',
      help: 'Sequences per backbone engine call: concurrent requests micro-batched into one call.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.backboneBatchWait = new Histogram({
      name: 'reco_backbone_batch_wait_seconds',
      help: 'Longest time a request in a backbone batch waited for it to start.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025],
      registers,
    });
    this.rankerBatchRows = new Histogram({
      name: 'reco_ranker_batch_rows',
      help: 'User states per item-ranker engine call: concurrent requests micro-batched into one top-k call.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.backboneCacheLookups = new Counter({
      name: 'reco_backbone_cache_lookups_total',
      help: 'Sequences looked up in the backbone activation cache, by result (hit: the engine did not run for it).',
      labelNames: ['result'],
      registers,
    });
    const sources = (): MetricSources => this.#sources;
    new Gauge({ name: 'reco_history_users', help: 'Users in the per-user history store.', registers, collect() { this.set(sources().historyUsers()); } });
    new Gauge({ name: 'reco_history_events', help: 'Events held in the per-user history store.', registers, collect() { this.set(sources().historyEvents()); } });
    new Gauge({ name: 'reco_popularity_items', help: 'Items tracked by the popularity counter.', registers, collect() { this.set(sources().popularityItems()); } });
  }

  /** The consumer seam's series (up, lag, messages), for `metricsObserver`. */
  get consumers(): ConsumerMetrics {
    return { up: this.consumerUp, lag: this.consumerLag, messages: this.consumerMessages };
  }

  /** Where the size gauges read from; set once the stores exist. */
  observe(sources: MetricSources): void {
    this.#sources = sources;
  }
}
