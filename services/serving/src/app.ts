import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { DebugRequestLogs, MAX_ID_LENGTH, type Producer, type TopicSpec } from '@reco/stream';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './config.js';
import { clientErrorHandler, errorHandler, frameworkErrorHandler } from './error-handler.js';
import { ServingError } from './errors.js';
import type { HistoryStore } from './history-store.js';
import type { ItemCoVisits } from './model-api.js';
import { ItemDirectory } from './item-directory.js';
import { useJsonBodyParser } from './json-body.js';
import type { LiveModels } from './live-models.js';
import type { ServingMetrics } from './metrics.js';
import { docsPlugin } from './plugins/docs.js';
import { kafkaPlugin } from './plugins/kafka.js';
import { liveModelsPlugin } from './plugins/live-models.js';
import { metricsPlugin } from './plugins/metrics.js';
import type { PopularityCounter } from './popularity.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { itemRoutes } from './routes/items.js';
import { modelRoutes } from './routes/models.js';
import { recommendationRoutes } from './routes/recommendations.js';
import type { RollbackRecords } from './rollback-record.js';
import { validatorCompiler } from './validator.js';
import type { VariantPolicy } from './variant-choice.js';

export interface ServingDeps {
  /** Fastify logger options (e.g. `{ level }`), or `loggerInstance` for an existing pino logger. */
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyBaseLogger;
  /** The live-model registry (the app retires every model on close). */
  models: LiveModels;
  history: HistoryStore;
  /** Co-visit counts of the clicks this replica consumed: the models' memory (co-visit-memory.ts in @reco/model). */
  coVisits: ItemCoVisits;
  popularity: PopularityCounter;
  /**
   * The item catalogue (titles, categories, availability) and the topic its writes go to. Without
   * it (tests of other routes) there are no /v1/items routes and answers know no titles, filter
   * nothing but `exclude` and the category nobody has, and come from the model and live clicks only.
   */
  items?: { directory: ItemDirectory; topic: TopicSpec } | undefined;
  /** Connected producer for events and dead letters (the app disconnects it on close). */
  producer: Producer;
  topics: { events: TopicSpec; deadLetter: TopicSpec };
  /** The app clears this registry on close. */
  metrics: ServingMetrics;
  /** Where /metrics reads from when this process is one worker of several (cluster.ts). */
  metricsText?: (() => Promise<string>) | undefined;
  policy: VariantPolicy;
  readiness?: readonly ReadinessCheck[];
  adminToken?: string | undefined;
  /** Publishes rollback records to reco.adapters (rollback-record.ts); without it the rollback route answers 503. */
  rollback?: RollbackRecords | undefined;
  bodyLimitBytes?: number;
  /** Request and idle-socket timeouts of the HTTP server (only apply when it listens, not to inject()). */
  http?: HttpTimeouts;
}

/**
 * The longest path parameter: every id the API accepts (MAX_ID_LENGTH, after percent-decoding,
 * which is what the router measures) must be addressable as /v1/items/:itemId.
 * `RECO_ERR_URI_TOO_LONG` promises this number to clients.
 */
export const MAX_PARAM_LENGTH = MAX_ID_LENGTH;

/**
 * Builds the serving HTTP app without listening, so tests drive it with `app.inject()` around
 * real objects (a real producer, real models). Consumers that feed `models` and `history` are
 * started by the caller (main.ts), which stops them before closing the app.
 */
export async function buildApp(deps: ServingDeps): Promise<FastifyInstance> {
  const http = deps.http ?? DEFAULT_HTTP_TIMEOUTS;
  const app = Fastify({
    ...(deps.loggerInstance !== undefined ? { loggerInstance: deps.loggerInstance } : { logger: deps.logger ?? false }),
    logController: new DebugRequestLogs(),
    bodyLimit: deps.bodyLimitBytes ?? 256 * 1024,
    // Node's defaults let a stalled body hold a socket for 300 s, checked every 30 s (finding G
    // saw > 320 s). The request timeout covers headers and body; the check runs about once a
    // second so a stalled client gets its 408 close to the configured time.
    requestTimeout: http.requestTimeoutMs,
    connectionTimeout: http.connectionTimeoutMs,
    http: {
      requestTimeout: http.requestTimeoutMs,
      headersTimeout: http.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(http.requestTimeoutMs / 4))),
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Fastify's own answers (bad URL, oversized parameter, HTTP parser errors, the drain-time 503)
    // have bodies outside the catalogue; these send catalogue bodies instead.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    return503OnClosing: false,
  });
  app.setValidatorCompiler(validatorCompiler());
  // Every body is JSON: text/plain (parsed by default) would only produce a confusing 400.
  app.removeContentTypeParser('text/plain');
  useJsonBodyParser(app);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ code: 'RECO_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url}` }));
  // While closing, requests still arriving on open connections are refused with a catalogue 503;
  // those already in flight finish.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    void reply.header('connection', 'close');
    throw new ServingError('RECO_ERR_SHUTTING_DOWN', 'this replica is shutting down; send the request to another one');
  });

  await app.register(docsPlugin);
  await app.register(metricsPlugin, { metrics: deps.metrics, metricsText: deps.metricsText });
  await app.register(liveModelsPlugin, { models: deps.models });
  await app.register(kafkaPlugin, { producer: deps.producer, topics: deps.topics });

  await app.register(healthRoutes, { readiness: deps.readiness ?? [] });
  const directory = deps.items?.directory ?? new ItemDirectory();
  await app.register(recommendationRoutes, { history: deps.history, coVisits: deps.coVisits, popularity: deps.popularity, directory, policy: deps.policy });
  if (deps.items !== undefined) await app.register(itemRoutes, { directory, topic: deps.items.topic, producer: deps.producer, adminToken: deps.adminToken });
  await app.register(eventRoutes);
  await app.register(modelRoutes, { adminToken: deps.adminToken, rollback: deps.rollback });
  await app.register(dashboardRoutes, { history: deps.history });

  deps.metrics.observe({ historyUsers: () => deps.history.users, historyEvents: () => deps.history.events, popularityItems: () => deps.popularity.size });
  for (const variant of deps.models.variants()) deps.metrics.liveVersion.set({ variant }, deps.models.current(variant)?.meta.version ?? 0);
  await app.ready();
  return app;
}
