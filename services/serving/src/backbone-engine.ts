import type { FastPath } from './live-model.js';
import { BatchingBackboneRunner, BatchingItemRanker, CachedBackboneRunner, countLookupsInto, createBackboneRunner, OrtItemRanker, type Backbone, type BackboneEngine } from './model-api.js';
import type { ServingMetrics } from './metrics.js';

export interface EngineSettings {
  /** RECO_BACKBONE_ENGINE: `auto` tries ONNX Runtime and falls back to TF.js with a logged reason. */
  engine: BackboneEngine;
  /** ONNX Runtime intra-op threads per engine call. */
  threads: number;
  /** RECO_ORT_PROVIDERS: ONNX Runtime execution providers, best first. */
  providers: readonly string[];
  /** Sequences in the activation cache; 0 turns it off. */
  cacheEntries: number;
  batchMaxSize: number;
  batchMaxWaitMs: number;
}

export interface ServingEngine {
  /** What the models call: the runner (cache, then micro-batching, then the engine) and, on ONNX Runtime, the ranker. */
  fast: FastPath;
  engine: 'onnx' | 'tfjs';
  fallbackReason: string | undefined;
  dispose(): void;
}

/**
 * The frozen backbone as serving runs it. Requests for a sequence already seen (the same user
 * asking again before their next click) are answered from the activation cache; the rest of the
 * concurrent requests go to the engine together, one call per micro-batch. One chain serves every
 * variant and version: the backbone is shared and never changes.
 */
export async function startServingEngine(backbone: Backbone, settings: EngineSettings, metrics: ServingMetrics, log: (message: string) => void): Promise<ServingEngine> {
  const created = await createBackboneRunner(backbone, { engine: settings.engine, threads: settings.threads, providers: settings.providers, log });
  metrics.backboneEngine.set({ engine: created.engine }, 1);
  const batching = new BatchingBackboneRunner(created.runner, {
    maxBatch: settings.batchMaxSize,
    maxWaitMs: settings.batchMaxWaitMs,
    onBatch: (rows, waitedMs) => {
      metrics.backboneBatchRows.observe(rows);
      metrics.backboneBatchWait.observe(waitedMs / 1000);
    },
  });
  const cache =
    settings.cacheEntries > 0
      ? new CachedBackboneRunner(batching, { maxEntries: settings.cacheEntries, onLookup: countLookupsInto(metrics.backboneCacheLookups) })
      : undefined;
  // Scoring and top-k on the same engine: a request's h · E^T over the catalogue in native code.
  // Without it (TF.js engine, or a ranker session that fails to build) scores are computed in JavaScript.
  // Concurrent requests' rankings are micro-batched like their backbone rows, by the same settings.
  let ranker: BatchingItemRanker | undefined;
  if (created.engine === 'onnx') {
    try {
      const single = await OrtItemRanker.create(backbone.config.dim, { threads: settings.threads, providers: settings.providers, log });
      ranker = new BatchingItemRanker(single, {
        maxBatch: settings.batchMaxSize,
        maxWaitMs: settings.batchMaxWaitMs,
        onBatch: (rows) => metrics.rankerBatchRows.observe(rows),
      });
    } catch (error) {
      log(`ONNX Runtime item ranker unavailable (${String(error)}); ranking in JavaScript`);
    }
  }
  return {
    fast: { runner: cache ?? batching, ranker },
    engine: created.engine,
    fallbackReason: created.fallbackReason,
    dispose: () => {
      ranker?.dispose();
      cache?.dispose();
      batching.dispose();
      created.runner.dispose();
    },
  };
}
