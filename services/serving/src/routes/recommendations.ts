import type { FastifyPluginAsync } from 'fastify';
import { popularItems } from '../fallback.js';
import type { HistoryStore } from '../history-store.js';
import type { ItemDirectory } from '../item-directory.js';
import type { ItemCoVisits } from '../model-api.js';
import type { PopularityCounter } from '../popularity.js';
import { recommendFromHistory, type ScoredItem } from '../recommender.js';
import { errorResponseSchema } from '../schemas/common.js';
import {
  recommendationsBodySchema,
  recommendationsQuerySchema,
  recommendationsResponseSchema,
  type RecommendationsBody,
  type RecommendationsQuery,
  type RecommendationsResponse,
  type RecommendedItem,
} from '../schemas/recommendations.js';
import { chooseVariant, type VariantPolicy } from '../variant-choice.js';

export interface RecommendationRoutesOptions {
  history: HistoryStore;
  coVisits: ItemCoVisits;
  popularity: PopularityCounter;
  /** Titles, categories and availability: what answers show and what they may contain. */
  directory: ItemDirectory;
  policy: VariantPolicy;
}

const responses = { 200: recommendationsResponseSchema, 400: errorResponseSchema, 404: errorResponseSchema, 413: errorResponseSchema };

export const recommendationRoutes: FastifyPluginAsync<RecommendationRoutesOptions> = async (app, { history, coVisits, popularity, directory, policy }) => {
  const { models, metrics } = app;

  function described(items: readonly ScoredItem[]): RecommendedItem[] {
    return items.map(({ itemId, score }) => {
      const record = directory.get(itemId);
      return {
        itemId,
        score,
        ...(record?.title == null ? {} : { title: record.title }),
        ...(record === undefined || record.categories.length === 0 ? {} : { categories: [...record.categories] }),
      };
    });
  }

  async function recommend(request: RecommendationsBody): Promise<RecommendationsResponse> {
    const variant = chooseVariant(policy, request.userId, (v) => models.has(v), request.variant);
    // The lease pins one immutable model version for the whole request, across every await.
    const lease = models.lease(variant);
    try {
      const { meta } = lease.model;
      const items = request.history ?? history.get(request.userId);
      const exclude = new Set(request.exclude ?? []);
      if (request.excludeSeen) for (const id of items) exclude.add(id);
      const filter = { exclude, category: request.category };
      const stamp = { userId: request.userId, variant, method: meta.method, version: meta.version, backboneId: meta.backboneId, historyLength: items.length };
      if (items.length === 0) {
        metrics.recommendations.inc({ variant, fallback: 'popularity' });
        return { ...stamp, fallback: 'popularity', items: described(popularItems(popularity, directory, request.k, filter)) };
      }
      metrics.recommendations.inc({ variant, fallback: 'none' });
      const { catalogue } = lease.model.adaptation;
      const memory = lease.model.memoryWeight === 0 ? undefined : coVisits.memory(items, (id) => catalogue.slotOf(id));
      const ranked = await recommendFromHistory(lease.model, items, request.k, exclude, directory.accepts(filter), memory);
      // The model ranks its own catalogue only; an answer it leaves short is completed from the fallback.
      if (ranked.length < request.k) ranked.push(...popularItems(popularity, directory, request.k - ranked.length, filter, new Set(ranked.map((i) => i.itemId))));
      return { ...stamp, items: described(ranked) };
    } finally {
      lease.release();
    }
  }

  app.get<{ Querystring: RecommendationsQuery }>(
    '/v1/recommendations',
    { schema: { summary: 'Top-k items for a user from the history this replica keeps', querystring: recommendationsQuerySchema, response: responses } },
    async (request) => recommend(request.query),
  );

  app.post<{ Body: RecommendationsBody }>(
    '/v1/recommendations',
    { schema: { summary: 'Top-k items, optionally for an explicit history and with items to exclude', body: recommendationsBodySchema, response: responses } },
    async (request) => recommend(request.body),
  );
};
