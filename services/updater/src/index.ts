export { buildApp, type UpdaterDeps as UpdaterAppDeps } from './app.js';
export { readUpdaterConfig, type TrainingSettings, type UpdaterConfig, type VariantSpec } from './config.js';
export { readLatestSnapshots, type ResumeCheck } from './latest-snapshots.js';
export { createUpdaterMetrics, type UpdaterMetrics } from './metrics.js';
export { Updater, type SnapshotSink, type UpdaterDeps } from './updater.js';
export { VariantTrainer, type PublishedSnapshot } from './variant-trainer.js';
export { acquireLease, chooseHolder, leaseGroup, type Lease, type LeaseOptions } from './lease.js';
export { isProducerFenced, ProducerFencedError, SnapshotPublisher, snapshotTransactionalId, type SnapshotPublisherOptions } from './snapshot-publisher.js';
