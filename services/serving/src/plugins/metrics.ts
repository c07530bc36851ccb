import fp from 'fastify-plugin';
import type { ServingMetrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServingMetrics;
  }
}

/**
 * The metrics registry as a shared resource: every route's latency is observed by route template
 * (never the raw URL, whose user ids would explode the label set), `/metrics` serves the text
 * format, and closing the app clears the registry.
 */
export const metricsPlugin = fp<{ metrics: ServingMetrics; metricsText?: (() => Promise<string>) | undefined }>(
  async (app, { metrics, metricsText }) => {
    app.decorate('metrics', metrics);
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.httpDuration.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true, response: { 200: { type: 'string' } } } }, async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      // In a multi-process replica, the whole replica's figures (see cluster.ts), else this process's.
      return metricsText === undefined ? metrics.registry.metrics() : metricsText();
    });
    app.addHook('onClose', async () => {
      metrics.registry.clear();
    });
  },
  { name: 'reco-metrics' },
);
