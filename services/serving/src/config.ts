import { join, resolve } from 'node:path';
import { readKafkaConfig, readLogSettings, type KafkaConfig, type LogSettings } from '@reco/stream';
import type { EngineSettings } from './backbone-engine.js';
import { isBackboneEngine, isBackendName, isInsecureFlag, parseOrtProviders, parseVariants, snapshotTrust, type BackendName, type SnapshotTrust, type VariantSpec } from './model-api.js';

export type { VariantSpec };

export interface VariantWeight {
  readonly variant: string;
  readonly weight: number;
}

export interface ServingConfig {
  readonly host: string;
  readonly port: number;
  /** RECO_SERVING_WORKERS: processes sharing the port (cluster.ts); 1 = this process serves alone. */
  readonly workers: number;
  /** LOG_LEVEL and RECO_LOG_PRETTY (readLogSettings in @reco/stream). */
  readonly log: LogSettings;
  readonly kafka: KafkaConfig;
  /** Prepended to every topic name (e.g. `staging.`), for sharing one cluster. */
  readonly topicPrefix: string;
  /**
   * RECO_VARIANTS, the same list the updater trains (`name` or `name:method`): each answers from
   * start-up at version 0 (its method's identity initialisation) until its first snapshot.
   */
  readonly variants: readonly VariantSpec[];
  /** Variant for requests that name none; when unset, `variantSplit` decides per user. */
  readonly defaultVariant: string | undefined;
  /** Deterministic per-user split by hash of the userId, used when no default is set (default: the variants, equally). */
  readonly variantSplit: readonly VariantWeight[];
  /** Backbone checkpoint folder (manifest.json + weights.bin). */
  readonly backboneDir: string;
  /** Bearer token of the admin routes (rollback); unset disables them (403). */
  readonly adminToken: string | undefined;
  readonly bodyLimitBytes: number;
  readonly http: HttpTimeouts;
  /** Items kept per user in the history store. */
  readonly historyLength: number;
  /** Users kept in the history store (least recently active evicted first). */
  readonly historyMaxUsers: number;
  /** How far back the history consumer starts reading `reco.events` at start-up. */
  readonly historyLookbackMs: number;
  /** Half-life of the decayed popularity counter behind the fallback. */
  readonly popularityHalfLifeMs: number;
  /** RECO_TF_BACKEND: force one TF.js backend instead of trying them in order. */
  readonly tfBackend: BackendName | undefined;
  /** How the frozen backbone runs: engine, threads, activation cache, micro-batching. */
  readonly engine: Readonly<EngineSettings>;
  readonly snapshots: SnapshotSettings;
}

/** What this replica accepts from reco.adapters: whose signature, and within which bounds. */
export interface SnapshotSettings {
  /** RECO_SNAPSHOT_KEY (hex, >= 32 bytes) or RECO_SNAPSHOT_INSECURE=1: one of them is required. */
  readonly trust: SnapshotTrust;
  /** RECO_SIDE_CAPACITY: the largest side table a snapshot may bring (the updater's setting, same name). */
  readonly maxSideCapacity: number;
  /** RECO_SNAPSHOT_MAX_VERSION_JUMP: how far ahead of the live version a snapshot may be. */
  readonly maxVersionJump: number;
  /** RECO_ROLLBACK_TIMEOUT_MS: how long the rollback route waits for this replica to apply its own record. */
  readonly rollbackTimeoutMs: number;
}

/** How long the HTTP server waits for clients (slow or stalled ones hold a socket and memory). */
export interface HttpTimeouts {
  /** RECO_HTTP_REQUEST_TIMEOUT_MS: the whole request, headers and body, must arrive within this; else 408. */
  readonly requestTimeoutMs: number;
  /** RECO_HTTP_CONNECTION_TIMEOUT_MS: a socket without traffic this long is closed (also one whose client stopped reading). */
  readonly connectionTimeoutMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = Object.freeze({ requestTimeoutMs: 10_000, connectionTimeoutMs: 30_000 });

type Env = Readonly<Record<string, string | undefined>>;

class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function integer(env: Env, name: string, fallback: number, min: number, max: number, what: string): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be ${what}, got "${raw}"`);
  return n;
}

function parseSplit(raw: string | undefined): VariantWeight[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const [variant = '', weight = '1'] = part.split(':').map((s) => s.trim());
    const w = Number(weight);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(variant) || !Number.isInteger(w) || w < 1) {
      throw new ConfigError(`RECO_VARIANT_SPLIT entry "${part}" is not variant:weight (weight a positive integer)`);
    }
    return { variant, weight: w };
  });
}

function readHttpTimeouts(env: Env): HttpTimeouts {
  const requestTimeoutMs = integer(env, 'RECO_HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs, 100, 600_000, 'milliseconds between 100 and 600,000');
  const connectionTimeoutMs = integer(env, 'RECO_HTTP_CONNECTION_TIMEOUT_MS', DEFAULT_HTTP_TIMEOUTS.connectionTimeoutMs, 1000, 3_600_000, 'milliseconds between 1,000 and 3,600,000');
  // An idle socket is closed without an answer; the request timeout answers 408 (checked about
  // once a second). The other way round a stalled body would get a reset instead of a 408.
  if (connectionTimeoutMs <= requestTimeoutMs + 1000) {
    throw new ConfigError(`RECO_HTTP_CONNECTION_TIMEOUT_MS (${connectionTimeoutMs}) must be more than RECO_HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs}) + 1000`);
  }
  return Object.freeze({ requestTimeoutMs, connectionTimeoutMs });
}

function readSnapshotSettings(env: Env): SnapshotSettings {
  let trust: SnapshotTrust;
  try {
    trust = snapshotTrust(env.RECO_SNAPSHOT_KEY, isInsecureFlag(env.RECO_SNAPSHOT_INSECURE));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return Object.freeze({
    trust,
    // The updater's default; a snapshot with a bigger table is refused before anything is allocated.
    maxSideCapacity: integer(env, 'RECO_SIDE_CAPACITY', 1000, 0, 10_000_000, 'an integer between 0 and 10,000,000'),
    // The updater adds 1 per publish (every 5 s by default): 10,000 is about 14 hours of publishes
    // missed by a replica that stayed connected, far below a forged "version 10^12".
    maxVersionJump: integer(env, 'RECO_SNAPSHOT_MAX_VERSION_JUMP', 10_000, 1, 1_000_000_000, 'an integer between 1 and 1,000,000,000'),
    // A caught-up snapshot consumer applies a record well within a second of its produce.
    rollbackTimeoutMs: integer(env, 'RECO_ROLLBACK_TIMEOUT_MS', 10_000, 100, 600_000, 'milliseconds between 100 and 600,000'),
  });
}

/**
 * The only place the serving service reads its environment: once, at start-up, with defaults and
 * an error naming the variable when a value is impossible. Everything else receives slices of this.
 */
export function readServingConfig(env: Env): ServingConfig {
  const port = Number(env.PORT ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a TCP port number, got "${env.PORT}"`);
  const backend = env.RECO_TF_BACKEND?.trim();
  if (backend !== undefined && backend !== '' && !isBackendName(backend)) {
    throw new ConfigError(`RECO_TF_BACKEND must be one of tensorflow-gpu, tensorflow, wasm, cpu; got "${backend}"`);
  }
  const engine = env.RECO_BACKBONE_ENGINE?.trim() || 'auto';
  if (!isBackboneEngine(engine)) throw new ConfigError(`RECO_BACKBONE_ENGINE must be one of auto, onnx, tfjs; got "${engine}"`);
  const variants = parseVariants(env.RECO_VARIANTS ?? 'ladder');
  const defaultVariant = env.RECO_DEFAULT_VARIANT?.trim() || undefined;
  const split = parseSplit(env.RECO_VARIANT_SPLIT);
  return Object.freeze({
    host: env.HOST ?? '127.0.0.1',
    port,
    workers: integer(env, 'RECO_SERVING_WORKERS', 1, 1, 64, 'an integer between 1 and 64'),
    log: readLogSettings(env),
    kafka: readKafkaConfig(env, { defaultClientId: 'reco-serving' }),
    topicPrefix: env.RECO_TOPIC_PREFIX ?? '',
    variants: Object.freeze(variants),
    defaultVariant,
    // With neither a default nor a split, users are split equally over the configured variants.
    variantSplit: Object.freeze(split.length > 0 ? split : variants.map((v) => ({ variant: v.name, weight: 1 }))),
    backboneDir: resolve(env.RECO_BACKBONE_DIR?.trim() || join('.cache', 'backbones', 'synthetic')),
    adminToken: env.RECO_ADMIN_TOKEN?.trim() || undefined,
    bodyLimitBytes: integer(env, 'RECO_BODY_LIMIT_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024, 'a byte count between 1 KiB and 64 MiB'),
    http: readHttpTimeouts(env),
    historyLength: integer(env, 'RECO_HISTORY_LENGTH', 50, 1, 1000, 'an integer between 1 and 1000'),
    historyMaxUsers: integer(env, 'RECO_HISTORY_MAX_USERS', 100_000, 1, 10_000_000, 'an integer between 1 and 10,000,000'),
    historyLookbackMs: integer(env, 'RECO_HISTORY_LOOKBACK_S', 0, 0, 7 * 24 * 3600, 'seconds between 0 and 7 days') * 1000,
    popularityHalfLifeMs: integer(env, 'RECO_POPULARITY_HALF_LIFE_S', 3600, 1, 30 * 24 * 3600, 'seconds between 1 and 30 days') * 1000,
    tfBackend: backend === undefined || backend === '' ? undefined : backend,
    engine: Object.freeze({
      engine,
      threads: integer(env, 'RECO_ORT_THREADS', 1, 1, 64, 'an integer between 1 and 64'),
      providers: Object.freeze(parseOrtProviders(env.RECO_ORT_PROVIDERS)),
      cacheEntries: integer(env, 'RECO_BACKBONE_CACHE_ENTRIES', 100_000, 0, 10_000_000, 'an integer between 0 (off) and 10,000,000'),
      batchMaxSize: integer(env, 'RECO_BATCH_MAX_SIZE', 64, 1, 4096, 'an integer between 1 and 4096'),
      batchMaxWaitMs: integer(env, 'RECO_BATCH_MAX_WAIT_MS', 2, 0, 1000, 'milliseconds between 0 and 1000'),
    }),
    snapshots: readSnapshotSettings(env),
  });
}
