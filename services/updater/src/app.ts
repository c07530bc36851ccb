import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Registry } from 'prom-client';

export interface UpdaterDeps {
  logger?: FastifyServerOptions['logger'];
  /** The updater's metrics registry, served on /metrics. */
  registry?: Registry;
  /** True once the updater has joined its group and sought to its snapshot positions. */
  isRunning?: () => boolean;
}

/**
 * The updater's HTTP surface: liveness, readiness and Prometheus metrics. Built without listening,
 * so tests drive it with `app.inject()`.
 */
export async function buildApp(deps: UpdaterDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false });
  const status = { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false } as const;
  app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: status, 503: status } } }, async (_request, reply) => {
    if (deps.isRunning && !deps.isRunning()) return reply.code(503).send({ status: 'starting' });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    if (!deps.registry) return reply.code(404).send('no metrics registry');
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  await app.ready();
  return app;
}
