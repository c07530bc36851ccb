import type { FastifyPluginAsync } from 'fastify';
import { errorResponseSchema } from '../schemas/common.js';
import { eventsAcceptedSchema, eventsBodySchema, eventsRejectedSchema, type EventsBody } from '../schemas/events.js';

export const eventRoutes: FastifyPluginAsync = async (app) => {
  const { eventIngest, metrics } = app;
  app.post<{ Body: EventsBody }>(
    '/v1/events',
    {
      // Each event of a batch is judged alone (event-ingest.ts encodes any item without recursion):
      // one absurdly nested event is one invalid event, and its valid siblings are still produced.
      config: { jsonDepthLimit: false },
      schema: {
        summary: 'Ingest one event or a batch: produced to reco.events (202), invalid ones dead-lettered (400 naming each field)',
        body: eventsBodySchema,
        response: { 202: eventsAcceptedSchema, 400: eventsRejectedSchema, 413: errorResponseSchema, 503: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const batch = Array.isArray(request.body.events);
      const items = batch ? (request.body.events as unknown[]) : [request.body];
      const result = await eventIngest.ingest(items, { batch, route: '/v1/events', requestId: request.id });
      metrics.eventsAccepted.inc(result.accepted);
      metrics.eventsRejected.inc(result.rejected);
      if (result.rejected === 0) return reply.status(202).send({ accepted: result.accepted });
      return reply.status(400).send({
        code: 'RECO_ERR_INVALID_EVENTS',
        message: `${result.rejected} of ${items.length} event(s) invalid (dead-lettered); ${result.accepted} valid one(s) accepted`,
        accepted: result.accepted,
        rejected: result.rejected,
        issues: result.issues,
      });
    },
  );
};
