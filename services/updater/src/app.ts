import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';

export interface UpdaterDeps {
  logger?: FastifyServerOptions['logger'];
}

/**
 * Builds the updater HTTP app without listening, so tests drive it with `app.inject()`.
 * The updater's HTTP surface is health and (with the services issue) Prometheus metrics.
 */
export async function buildApp(deps: UpdaterDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false });
  app.get(
    '/healthz',
    {
      schema: {
        response: { 200: { type: 'object', properties: { status: { type: 'string', const: 'ok' } }, required: ['status'], additionalProperties: false } },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  await app.ready();
  return app;
}
