import type { FastifyPluginAsync } from 'fastify';
import { healthResponseSchema, readyResponseSchema, type ReadyResponse } from '../schemas/health.js';

/** One readiness condition: resolves to undefined when met, else to the reason it is not. */
export type ReadinessCheck = () => Promise<string | undefined>;

export const healthRoutes: FastifyPluginAsync<{ readiness: readonly ReadinessCheck[] }> = async (app, { readiness }) => {
  app.get('/healthz', { schema: { summary: 'The process is up', response: { 200: healthResponseSchema } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/readyz',
    { schema: { summary: 'Backbone loaded, Kafka reachable, snapshots caught up', response: { 200: readyResponseSchema, 503: readyResponseSchema } } },
    async (_request, reply): Promise<ReadyResponse> => {
      const results = await Promise.all(readiness.map((check) => check().catch((error: unknown) => `readiness check failed: ${String(error)}`)));
      const reasons = results.filter((r): r is string => r !== undefined);
      if (reasons.length > 0) reply.status(503);
      return { status: reasons.length === 0 ? 'ready' : 'not-ready', reasons };
    },
  );
};
