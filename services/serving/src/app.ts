import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';

export interface ServingDeps {
  logger?: FastifyServerOptions['logger'];
}

/**
 * Builds the serving HTTP app without listening, so tests drive it with `app.inject()`.
 * Recommendation, event and model routes arrive with the services issue.
 */
export async function buildApp(deps: ServingDeps = {}): Promise<FastifyInstance> {
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
