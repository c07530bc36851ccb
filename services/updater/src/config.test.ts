import { describe, expect, it } from 'vitest';
import { readUpdaterConfig } from './config.js';

const KEY = 'cd'.repeat(32);

describe('updater config', () => {
  it('has defaults for everything but the brokers', () => {
    const config = readUpdaterConfig({ KAFKA_BROKERS: 'localhost:9092', RECO_SNAPSHOT_KEY: KEY });
    expect(config.variants).toEqual([{ name: 'ladder', method: 'ladder' }]);
    expect(config.training).toMatchObject({ batchSize: 64, publishIntervalMs: 5000, publishMaxSteps: 200, memoryWeightBy: 'ranking' });
    expect(readUpdaterConfig({ KAFKA_BROKERS: 'b:9092', RECO_SNAPSHOT_KEY: KEY, RECO_MEMORY_WEIGHT: 'loss' }).training.memoryWeightBy).toBe('loss');
    expect(config.groupId).toBe('reco-updater');
    expect(config).toMatchObject({ backboneEngine: 'auto', ortThreads: 1, ortProviders: ['cpu'], backboneCacheEntries: 20_000, shutdownTimeoutMs: 20_000 });
    expect(readUpdaterConfig({ KAFKA_BROKERS: 'b:9092', RECO_SNAPSHOT_KEY: KEY, RECO_BACKBONE_ENGINE: 'tfjs', RECO_ORT_THREADS: '2', RECO_ORT_PROVIDERS: 'cuda,cpu', RECO_BACKBONE_CACHE_ENTRIES: '0' })).toMatchObject({
      backboneEngine: 'tfjs',
      ortThreads: 2,
      ortProviders: ['cuda', 'cpu'],
      backboneCacheEntries: 0,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ RECO_VARIANTS: 'ladder,ladder' }, 'lists variant "ladder" twice'],
    [{ RECO_VARIANTS: 'x:sgd' }, 'names unknown method "sgd"'],
    [{ RECO_VARIANTS: ' , ' }, 'names no variant'],
    [{ RECO_BATCH_SIZE: '0' }, 'RECO_BATCH_SIZE must be an integer'],
    [{ RECO_LEARNING_RATE: '-1' }, 'RECO_LEARNING_RATE must be a positive number'],
    [{ RECO_TF_BACKEND: 'gpu' }, 'RECO_TF_BACKEND must be one of'],
    [{ PORT: 'http' }, 'PORT must be an integer'],
    [{ RECO_BACKBONE_ENGINE: 'gpu' }, 'RECO_BACKBONE_ENGINE must be one of auto, onnx, tfjs'],
    [{ RECO_ORT_THREADS: '0' }, 'RECO_ORT_THREADS must be an integer'],
    [{ RECO_ORT_PROVIDERS: 'cuda;cpu' }, 'RECO_ORT_PROVIDERS: "cuda;cpu" is not an execution provider name'],
    [{ RECO_SHUTDOWN_TIMEOUT_MS: '5' }, 'RECO_SHUTDOWN_TIMEOUT_MS must be an integer'],
    [{ RECO_MEMORY_WEIGHT: 'gradient' }, 'RECO_MEMORY_WEIGHT must be ranking or loss'],
  ])('refuses %j', (env, message) => {
    expect(() => readUpdaterConfig({ KAFKA_BROKERS: 'localhost:9092', RECO_SNAPSHOT_KEY: KEY, ...env })).toThrow(message);
  });

  it('refuses to start without a snapshot key unless insecure mode is asked for by name', () => {
    expect(readUpdaterConfig({ KAFKA_BROKERS: 'b:9092', RECO_SNAPSHOT_KEY: KEY }).snapshotTrust).toEqual({ mode: 'signed', key: Buffer.from(KEY, 'hex') });
    expect(readUpdaterConfig({ KAFKA_BROKERS: 'b:9092', RECO_SNAPSHOT_INSECURE: '1' }).snapshotTrust).toEqual({ mode: 'insecure' });
    expect(() => readUpdaterConfig({ KAFKA_BROKERS: 'b:9092' })).toThrow(/RECO_SNAPSHOT_KEY is not set/);
    expect(() => readUpdaterConfig({ KAFKA_BROKERS: 'b:9092', RECO_SNAPSHOT_KEY: 'cd'.repeat(8) })).toThrow(/8 bytes; at least 32/);
  });
});
