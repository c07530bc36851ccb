import type { FastifyPluginAsync } from 'fastify';
import { healthResponseSchema, readyResponseSchema, type ReadyResponse } from '../schemas/health.js';

/**
 * One readiness condition: resolves to undefined when met, else to the reason it is not. The
 * reason is shown to unauthenticated callers: name the condition, never an error text, a broker
 * address or other internals.
 */
export type ReadinessCheck = () => Promise<string | undefined>;

export const healthRoutes: FastifyPluginAsync<{ readiness: readonly ReadinessCheck[] }> = async (app, { readiness }) => {
  app.get('/healthz', { schema: { summary: 'The process is up', response: { 200: healthResponseSchema } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/readyz',
    { schema: { summary: 'Backbone loaded, Kafka reachable, snapshots caught up, both consumers running', response: { 200: readyResponseSchema, 503: readyResponseSchema } } },
    async (request, reply): Promise<ReadyResponse> => {
      // Anyone may ask, so a check that throws is reported by position only; its error (which can
      // name a broker) goes to the log.
      const results = await Promise.all(
        readiness.map((check, index) =>
          check().catch((error: unknown) => {
            request.log.warn({ err: error, check: index }, 'readiness check threw');
            return `readiness check ${index} failed`;
          }),
        ),
      );
      const reasons = results.filter((r): r is string => r !== undefined);
      if (reasons.length > 0) reply.status(503);
      return { status: reasons.length === 0 ? 'ready' : 'not-ready', reasons };
    },
  );
};
