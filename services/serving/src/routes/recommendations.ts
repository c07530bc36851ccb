import type { FastifyPluginAsync } from 'fastify';
import type { HistoryStore } from '../history-store.js';
import type { PopularityCounter } from '../popularity.js';
import { recommendFromHistory } from '../recommender.js';
import { errorResponseSchema } from '../schemas/common.js';
import {
  recommendationsBodySchema,
  recommendationsQuerySchema,
  recommendationsResponseSchema,
  type RecommendationsBody,
  type RecommendationsQuery,
  type RecommendationsResponse,
} from '../schemas/recommendations.js';
import { chooseVariant, type VariantPolicy } from '../variant-choice.js';

export interface RecommendationRoutesOptions {
  history: HistoryStore;
  popularity: PopularityCounter;
  policy: VariantPolicy;
}

const responses = { 200: recommendationsResponseSchema, 400: errorResponseSchema, 404: errorResponseSchema, 413: errorResponseSchema };

export const recommendationRoutes: FastifyPluginAsync<RecommendationRoutesOptions> = async (app, { history, popularity, policy }) => {
  const { models, metrics } = app;

  async function recommend(request: RecommendationsBody): Promise<RecommendationsResponse> {
    const variant = chooseVariant(policy, request.userId, (v) => models.has(v), request.variant);
    // The lease pins one immutable model version for the whole request, across every await.
    const lease = models.lease(variant);
    try {
      const { meta } = lease.model;
      const items = request.history ?? history.get(request.userId);
      const exclude = new Set(request.exclude ?? []);
      if (request.excludeSeen) for (const id of items) exclude.add(id);
      const stamp = { userId: request.userId, variant, method: meta.method, version: meta.version, backboneId: meta.backboneId, historyLength: items.length };
      if (items.length === 0) {
        metrics.recommendations.inc({ variant, fallback: 'popularity' });
        return { ...stamp, fallback: 'popularity', items: popularity.top(request.k, exclude) };
      }
      metrics.recommendations.inc({ variant, fallback: 'none' });
      return { ...stamp, items: await recommendFromHistory(lease.model, items, request.k, exclude) };
    } finally {
      lease.release();
    }
  }

  app.get<{ Querystring: RecommendationsQuery }>(
    '/v1/recommendations',
    { schema: { summary: "Top-k items for a user from the history this replica keeps", querystring: recommendationsQuerySchema, response: responses } },
    async (request) => recommend(request.query),
  );

  app.post<{ Body: RecommendationsBody }>(
    '/v1/recommendations',
    { schema: { summary: 'Top-k items, optionally for an explicit history and with items to exclude', body: recommendationsBodySchema, response: responses } },
    async (request) => recommend(request.body),
  );
};
