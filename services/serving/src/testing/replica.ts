import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ItemMetadata } from '@reco/data';
import { createRng } from '@reco/data';
import { testKafkaBrokers } from '@reco/stream/testing';
import { readServingConfig } from '../config.js';
import { Backbone, initBackend, saveCheckpoint } from '../model-api.js';
import { startServingRuntime, type ServingRuntime } from '../runtime.js';
import { TEST_SNAPSHOT_KEY, until } from './harness.js';
import { TINY_SHAPE } from './tiny-backbone.js';

export const REPLICA_ADMIN_TOKEN = 'replica-admin-token';

/**
 * A tiny random backbone saved the way pretraining saves one for MovieLens: titles and categories
 * for some items, and pretraining counts that make item-59 the most popular, item-58 the next and
 * so on (the reverse of vocabulary order, so an answer in catalogue order cannot pass for one in
 * popularity order), with the first ten never clicked.
 */
export async function catalogueBackbone(seed = 5): Promise<{ dir: string; itemIds: string[]; metadata: Map<string, ItemMetadata>; counts: Map<string, number> }> {
  await initBackend({ log: () => undefined });
  const itemIds = Array.from({ length: TINY_SHAPE.numItems }, (_, i) => `item-${i}`);
  const metadata = new Map<string, ItemMetadata>();
  // Every third item a comedy, every fourth a drama (some both); items past 50 have no metadata.
  for (let i = 0; i < 50; i++) {
    const categories = [...(i % 3 === 0 ? ['Comedy'] : []), ...(i % 4 === 0 ? ['Drama'] : [])];
    metadata.set(`item-${i}`, { title: `Title ${i} (${1990 + i})`, categories });
  }
  const counts = new Map(itemIds.map((id, i) => [id, i < 10 ? 0 : i]));
  const backbone = Backbone.random(TINY_SHAPE, createRng(seed));
  const dir = await mkdtemp(join(tmpdir(), 'reco-serving-catalogue-'));
  await saveCheckpoint(dir, backbone, itemIds, { purpose: 'serving catalogue tests' }, { itemMetadata: metadata, itemCounts: itemIds.map((id) => counts.get(id) ?? 0) });
  backbone.dispose();
  return { dir, itemIds, metadata, counts };
}

/**
 * One serving replica as main.ts runs it (runtime.ts: checkpoint, topics, every consumer), on the
 * test broker. Replicas given the same topic prefix share the topics, as replicas of one deployment
 * do; each has its own consumer groups. Resolves once /readyz says ready.
 */
export async function startReplica(options: { backboneDir: string; topicPrefix: string; env?: Record<string, string> }): Promise<ServingRuntime> {
  const env = {
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    RECO_BACKBONE_DIR: options.backboneDir,
    RECO_TOPIC_PREFIX: options.topicPrefix,
    RECO_ADMIN_TOKEN: REPLICA_ADMIN_TOKEN,
    RECO_VARIANTS: 'ladder',
    RECO_ORT_THREADS: '1',
    RECO_SNAPSHOT_KEY: TEST_SNAPSHOT_KEY,
    ...options.env,
  };
  const runtime = await startServingRuntime(readServingConfig(env), { logger: false });
  try {
    await until(async () => ((await runtime.app.inject({ url: '/readyz' })).statusCode === 200 ? true : undefined), 30_000, 'the replica to be ready');
    return runtime;
  } catch (error) {
    await runtime.stop();
    throw error;
  }
}
