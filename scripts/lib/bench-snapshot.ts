import type { Kafka } from 'kafkajs';
import { sendWithinLimit, type TopicSpec } from '@reco/stream';

export interface BenchSnapshotOptions {
  kafka: Kafka;
  adapters: TopicSpec;
  backboneDir: string;
  variant: string;
  /** The co-visit memory's weight w in the snapshot: what makes serving compute a memory per request. */
  memoryWeight: number;
  /** The run's signing key (undefined: unsigned, for RECO_SNAPSHOT_INSECURE runs). */
  key: string | undefined;
}

/**
 * Publishes one `ladder` snapshot (version 1) for `variant` on the run's adapters topic, as the
 * updater would after training: the method's initial parameters at the backbone, signed with the
 * run's key, with the co-visit memory's weight set to `memoryWeight`. What it recommends does not
 * matter to a benchmark; what it costs does: a live model with w != 0 computes the history's
 * co-visit memory on every request, and one without a snapshot (w = 0) never does. Serving applies
 * it at start. Side table as the updater's default (RECO_SIDE_CAPACITY 1000).
 */
export async function publishBenchSnapshot(options: BenchSnapshotOptions): Promise<void> {
  // Loaded only here: the load generator itself never needs TF.js.
  const model = await import('@reco/model');
  await model.initBackend();
  const checkpoint = await model.loadCheckpoint(options.backboneDir);
  try {
    const catalogue = new model.ItemCatalogue(checkpoint.itemIds, 1000);
    const method = model.createAdaptation('ladder', checkpoint.backbone, catalogue, { seed: 1 });
    const serialized = await method.serialize();
    method.dispose();
    const weight = serialized.tensors.find((t) => t.name === model.CO_VISIT_WEIGHT);
    if (weight === undefined) throw new Error(`the ladder snapshot has no ${model.CO_VISIT_WEIGHT} tensor`);
    weight.values.fill(options.memoryWeight);
    const snapshot = model.buildSnapshot(
      {
        variant: options.variant,
        version: 1,
        backboneId: checkpoint.backboneId,
        offsets: {},
        examplesTrained: 0,
        figures: {},
        newestEventTs: null,
        publishedAt: Date.now(),
      },
      serialized,
    );
    const trust = model.snapshotTrust(options.key, options.key === undefined);
    const producer = options.kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await sendWithinLimit(producer, options.adapters, [{ key: options.variant, value: model.sealSnapshot(snapshot, trust) }]);
    } finally {
      await producer.disconnect();
    }
  } finally {
    checkpoint.backbone.dispose();
  }
}
