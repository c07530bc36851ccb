import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { consumerNotReadyReason, DebugRequestLogs, type ConsumerHealth } from '@reco/stream';

export interface UpdaterDeps {
  /** The process's logger (createLogger in @reco/stream); none: the app logs nothing. */
  logger?: FastifyBaseLogger;
  /** The updater's metrics registry, served on /metrics. */
  registry?: Registry;
  /**
   * The events consumer's health (undefined until the consumer is started). `/readyz` is ready
   * only while it is running: a consumer that is reconnecting after a broker restart, or that
   * failed, is not training anything.
   */
  consumer?: () => ConsumerHealth | undefined;
  /**
   * Where this updater stands with the lease of its variants. A standby is ready (it is doing its
   * job, and a rolling update must be able to go on while it waits); `starting` (not yet told
   * either way) is not; an active updater is ready while its events consumer runs.
   */
  role?: () => 'starting' | 'standby' | 'active';
}

const readySchema = {
  type: 'object',
  required: ['status', 'reasons', 'consumers'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['ready', 'not-ready'] },
    reasons: { type: 'array', items: { type: 'string' } },
    role: { type: 'string', enum: ['starting', 'standby', 'active'] },
    consumers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'state'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, state: { type: 'string', enum: ['starting', 'running', 'reconnecting', 'failed', 'stopped'] } },
      },
    },
  },
} as const;

/**
 * The updater's HTTP surface: liveness, readiness and Prometheus metrics. Built without listening,
 * so tests drive it with `app.inject()`. Readiness is asked of the consumer each time (not a flag
 * set once at start), and answers with states and reasons only: the consumer's last error can name
 * a broker, and this port answers anyone, so that stays in the log.
 */
export async function buildApp(deps: UpdaterDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({ ...(deps.logger === undefined ? { logger: false } : { loggerInstance: deps.logger }), logController: new DebugRequestLogs() });
  const status = { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false } as const;
  app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: readySchema, 503: readySchema } } }, async (_request, reply) => {
    const role = deps.role?.();
    if (role === 'standby') return { status: 'ready', reasons: [], consumers: [], role };
    const health = deps.consumer?.();
    const reasons =
      role === 'starting' ? ['waiting for the lease group to name the active updater'] : health === undefined ? ['events consumer not started'] : [consumerNotReadyReason(health)].filter((r): r is string => r !== undefined);
    const consumers = health === undefined ? [] : [{ name: health.name, state: health.state }];
    if (reasons.length > 0) reply.code(503);
    return { status: reasons.length === 0 ? 'ready' : 'not-ready', reasons, consumers, ...(role === undefined ? {} : { role }) };
  });
  app.get('/metrics', async (_request, reply) => {
    if (!deps.registry) return reply.code(404).send('no metrics registry');
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  await app.ready();
  return app;
}
