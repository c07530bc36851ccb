import { describe, expect, it } from 'vitest';
import { readServingConfig } from './config.js';

const KEY = 'ab'.repeat(32);
const base = { KAFKA_BROKERS: 'localhost:9092', RECO_SNAPSHOT_KEY: KEY };

describe('serving config', () => {
  it('reads its environment once, with defaults', () => {
    const config = readServingConfig({ ...base, PORT: '0' });
    expect(config).toMatchObject({ port: 0, host: '127.0.0.1', kafka: { brokers: ['localhost:9092'] }, topicPrefix: '', defaultVariant: undefined, adminToken: undefined });
    expect(config.variants).toEqual([{ name: 'ladder', method: 'ladder' }]);
    expect(config).toMatchObject({ workers: 1, engine: { engine: 'auto', threads: 1, cacheEntries: 100_000, batchMaxSize: 64, batchMaxWaitMs: 2 } });
    expect(config.variantSplit).toEqual([{ variant: 'ladder', weight: 1 }]);
    expect(config.http).toEqual({ requestTimeoutMs: 10_000, connectionTimeoutMs: 30_000 });
    expect(Object.isFrozen(config.http)).toBe(true);
    // Without a split, users are divided equally over the configured variants.
    expect(readServingConfig({ ...base, RECO_VARIANTS: 'ladder, b:bitfit' }).variantSplit).toEqual([
      { variant: 'ladder', weight: 1 },
      { variant: 'b', weight: 1 },
    ]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses every setting', () => {
    const config = readServingConfig({
      ...base,
      RECO_TOPIC_PREFIX: 'staging.',
      RECO_DEFAULT_VARIANT: 'lora',
      RECO_VARIANT_SPLIT: 'ladder:3, frozen:1',
      RECO_BACKBONE_DIR: '/models/backbone',
      RECO_ADMIN_TOKEN: 's3cret',
      RECO_BODY_LIMIT_BYTES: '4096',
      RECO_HISTORY_LENGTH: '20',
      RECO_HISTORY_MAX_USERS: '500',
      RECO_HISTORY_LOOKBACK_S: '60',
      RECO_POPULARITY_HALF_LIFE_S: '120',
      RECO_TF_BACKEND: 'cpu',
      RECO_SERVING_WORKERS: '2',
      RECO_BACKBONE_ENGINE: 'tfjs',
      RECO_ORT_THREADS: '2',
      RECO_ORT_PROVIDERS: 'cuda, CPU',
      RECO_BACKBONE_CACHE_ENTRIES: '0',
      RECO_BATCH_MAX_SIZE: '16',
      RECO_BATCH_MAX_WAIT_MS: '5',
      RECO_HTTP_REQUEST_TIMEOUT_MS: '2500',
      RECO_HTTP_CONNECTION_TIMEOUT_MS: '60000',
    });
    expect(config).toMatchObject({
      workers: 2,
      engine: { engine: 'tfjs', threads: 2, providers: ['cuda', 'cpu'], cacheEntries: 0, batchMaxSize: 16, batchMaxWaitMs: 5 },
      topicPrefix: 'staging.',
      defaultVariant: 'lora',
      variantSplit: [
        { variant: 'ladder', weight: 3 },
        { variant: 'frozen', weight: 1 },
      ],
      backboneDir: '/models/backbone',
      adminToken: 's3cret',
      bodyLimitBytes: 4096,
      historyLength: 20,
      historyMaxUsers: 500,
      historyLookbackMs: 60_000,
      popularityHalfLifeMs: 120_000,
      tfBackend: 'cpu',
      http: { requestTimeoutMs: 2500, connectionTimeoutMs: 60_000 },
    });
  });

  it('names the variable of an impossible value', () => {
    expect(() => readServingConfig({ ...base, PORT: 'eighty' })).toThrow('PORT must be a TCP port number');
    expect(() => readServingConfig({ ...base, RECO_TF_BACKEND: 'gpu' })).toThrow(/RECO_TF_BACKEND/);
    expect(() => readServingConfig({ ...base, RECO_VARIANT_SPLIT: 'ladder:0' })).toThrow(/RECO_VARIANT_SPLIT/);
    expect(() => readServingConfig({ ...base, RECO_BODY_LIMIT_BYTES: '12' })).toThrow(/RECO_BODY_LIMIT_BYTES/);
    expect(() => readServingConfig({ ...base, RECO_VARIANTS: 'ladder:magic' })).toThrow(/RECO_VARIANTS.*unknown method "magic"/);
    expect(() => readServingConfig({ ...base, RECO_VARIANTS: 'ladder,ladder' })).toThrow(/twice/);
    expect(() => readServingConfig({})).toThrow(/KAFKA_BROKERS/);
    expect(() => readServingConfig({ ...base, RECO_BACKBONE_ENGINE: 'gpu' })).toThrow(/RECO_BACKBONE_ENGINE must be one of auto, onnx, tfjs/);
    expect(() => readServingConfig({ ...base, RECO_SERVING_WORKERS: '0' })).toThrow(/RECO_SERVING_WORKERS/);
    expect(() => readServingConfig({ ...base, RECO_BATCH_MAX_SIZE: '0' })).toThrow(/RECO_BATCH_MAX_SIZE/);
    expect(() => readServingConfig({ ...base, RECO_HTTP_REQUEST_TIMEOUT_MS: '0' })).toThrow(/RECO_HTTP_REQUEST_TIMEOUT_MS must be milliseconds between 100 and 600,000/);
    expect(() => readServingConfig({ ...base, RECO_HTTP_CONNECTION_TIMEOUT_MS: 'soon' })).toThrow(/RECO_HTTP_CONNECTION_TIMEOUT_MS/);
    // A stalled body must get its 408 before the idle socket is closed without an answer.
    expect(() => readServingConfig({ ...base, RECO_HTTP_REQUEST_TIMEOUT_MS: '30000' })).toThrow(/RECO_HTTP_CONNECTION_TIMEOUT_MS \(30000\) must be more than RECO_HTTP_REQUEST_TIMEOUT_MS \(30000\) \+ 1000/);
  });

  it('requires a snapshot key, or insecure mode asked for by name, and bounds snapshots by configuration', () => {
    expect(readServingConfig(base).snapshots).toEqual({ trust: { mode: 'signed', key: Buffer.from(KEY, 'hex') }, maxSideCapacity: 1000, maxVersionJump: 10_000, rollbackTimeoutMs: 10_000 });
    expect(readServingConfig({ KAFKA_BROKERS: 'b:9092', RECO_SNAPSHOT_INSECURE: '1', RECO_SIDE_CAPACITY: '50', RECO_SNAPSHOT_MAX_VERSION_JUMP: '3', RECO_ROLLBACK_TIMEOUT_MS: '2500' }).snapshots).toEqual({
      trust: { mode: 'insecure' },
      maxSideCapacity: 50,
      maxVersionJump: 3,
      rollbackTimeoutMs: 2500,
    });
    expect(() => readServingConfig({ KAFKA_BROKERS: 'b:9092' })).toThrow(/RECO_SNAPSHOT_KEY is not set.*RECO_SNAPSHOT_INSECURE=1/);
    expect(() => readServingConfig({ KAFKA_BROKERS: 'b:9092', RECO_SNAPSHOT_INSECURE: 'yes' })).toThrow(/RECO_SNAPSHOT_KEY is not set/);
    expect(() => readServingConfig({ ...base, RECO_SNAPSHOT_KEY: 'ab'.repeat(16) })).toThrow(/16 bytes; at least 32/);
    expect(() => readServingConfig({ ...base, RECO_SNAPSHOT_MAX_VERSION_JUMP: '0' })).toThrow(/RECO_SNAPSHOT_MAX_VERSION_JUMP/);
    expect(() => readServingConfig({ ...base, RECO_ROLLBACK_TIMEOUT_MS: '5' })).toThrow(/RECO_ROLLBACK_TIMEOUT_MS/);
  });
});
