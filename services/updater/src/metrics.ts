import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConsumerMetrics } from '@reco/stream';

/**
 * Everything the updater reports on /metrics. One registry per updater instance (not prom-client's
 * global one), so tests can build several side by side. Names are shared with serving where the
 * meaning is the same (reco_live_version, reco_snapshots_*), so one dashboard reads both.
 */
export function createUpdaterMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    eventsConsumed: new Counter({ name: 'reco_updater_events_consumed_total', help: 'Valid events read from reco.events', registers }),
    eventsDeadLettered: new Counter({ name: 'reco_updater_events_dead_lettered_total', help: 'Invalid events sent to the dead-letter topic', registers }),
    examplesTrained: new Counter({ name: 'reco_updater_examples_trained_total', help: 'Clicks fed to the online trainer', labelNames: ['variant'], registers }),
    trainingSteps: new Counter({ name: 'reco_training_steps_total', help: 'Optimiser steps taken', labelNames: ['variant'], registers }),
    stepSeconds: new Histogram({
      name: 'reco_training_step_seconds',
      help: 'Wall time of one training step',
      labelNames: ['variant'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    loss: new Gauge({ name: 'reco_training_loss', help: 'Sampled-softmax loss of the latest step', labelNames: ['variant'], registers }),
    prequentialHr10: new Gauge({ name: 'reco_prequential_hr10', help: 'Rolling prequential HR@10 (test-then-train)', labelNames: ['variant'], registers }),
    prequentialNdcg10: new Gauge({ name: 'reco_prequential_ndcg10', help: 'Rolling prequential NDCG@10 (test-then-train)', labelNames: ['variant'], registers }),
    snapshotsPublished: new Counter({ name: 'reco_snapshots_published_total', help: 'Snapshots published to reco.adapters', labelNames: ['variant'], registers }),
    snapshotsRejected: new Counter({
      name: 'reco_snapshots_rejected_total',
      help: 'Candidate snapshots the validation gate refused',
      labelNames: ['variant', 'reason'],
      registers,
    }),
    snapshotsSkipped: new Counter({
      name: 'reco_updater_snapshots_skipped_total',
      help: 'Snapshots on reco.adapters the updater would not resume from at start-up (unverified, another backbone or method...), by reason',
      labelNames: ['variant', 'reason'],
      registers,
    }),
    rollbacksAdopted: new Counter({
      name: 'reco_updater_rollbacks_adopted_total',
      help: 'Rollback records (from serving) the updater continued training from',
      labelNames: ['variant'],
      registers,
    }),
    active: new Gauge({
      name: 'reco_updater_active',
      help: '1 while this updater holds the lease of its variants (trains and publishes); 0 while it waits as standby or is starting',
      registers,
    }),
    liveVersion: new Gauge({ name: 'reco_live_version', help: 'Latest published snapshot version', labelNames: ['variant'], registers }),
    lastPublishTime: new Gauge({ name: 'reco_updater_last_publish_timestamp_seconds', help: 'When the latest snapshot was published (set to the start time until the first publish, so a variant that never publishes is noticed)', labelNames: ['variant'], registers }),
    // The consumer seam's series, with the same names and labels as serving's, for the alert rules.
    consumers: {
      up: new Gauge({
        name: 'reco_consumer_up',
        help: '1 while the consumer is running; 0 while it is starting, reconnecting to Kafka, failed or stopped.',
        labelNames: ['service', 'topic'],
        registers,
      }),
      lag: new Gauge({
        name: 'reco_consumer_lag',
        help: 'Messages between the consumed position and the partition end, measured after batches and every few seconds.',
        labelNames: ['service', 'topic', 'partition'],
        registers,
      }),
      messages: new Counter({
        name: 'reco_consumer_messages_total',
        help: 'Messages handled per consumer: with reco_consumer_lag above zero and this flat, the consumer is stalled.',
        labelNames: ['service', 'topic'],
        registers,
      }),
    } satisfies ConsumerMetrics,
    // Same names as serving's, so one panel shows both services' engines and caches.
    backboneEngine: new Gauge({ name: 'reco_backbone_engine_info', help: 'The engine running the frozen backbone (onnx or tfjs): 1 for the one in use.', labelNames: ['engine'], registers }),
    backboneCacheLookups: new Counter({
      name: 'reco_backbone_cache_lookups_total',
      help: 'Sequences looked up in the backbone activation cache, by result (hit: the engine did not run for it).',
      labelNames: ['result'],
      registers,
    }),
  };
}

export type UpdaterMetrics = ReturnType<typeof createUpdaterMetrics>;
