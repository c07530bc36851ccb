import type { FastifyPluginAsync } from 'fastify';
import { ADMIN_SECURITY } from '../plugins/docs.js';
import { errorResponseSchema } from '../schemas/common.js';
import { authorizeAdmin } from './admin-auth.js';
import { modelsResponseSchema, rollbackParamsSchema, rollbackResponseSchema, type ModelInfo, type RollbackResponse } from '../schemas/models.js';

export interface ModelRoutesOptions {
  /** Bearer token of the rollback route; undefined disables it (every token is refused). */
  adminToken: string | undefined;
}

export const modelRoutes: FastifyPluginAsync<ModelRoutesOptions> = async (app, { adminToken }) => {
  const { models, metrics } = app;

  app.get(
    '/v1/models',
    { schema: { summary: 'Live variants and what each was trained up to', response: { 200: modelsResponseSchema } } },
    async (): Promise<{ variants: ModelInfo[] }> => ({
      variants: models.variants().flatMap((variant) => {
        const current = models.current(variant);
        if (current === undefined) return [];
        const m = current.meta;
        return [
          {
            variant,
            method: m.method,
            version: m.version,
            backboneId: m.backboneId,
            offsets: { ...m.offsets },
            examplesTrained: m.examplesTrained,
            figures: { ...m.figures },
            newestEventTs: m.newestEventTs,
            publishedAt: m.publishedAt,
            appliedAt: m.appliedAt,
            previousVersion: models.previous(variant)?.meta.version ?? null,
          },
        ];
      }),
    }),
  );

  app.post<{ Params: { variant: string } }>(
    '/v1/models/:variant/rollback',
    {
      schema: {
        summary: 'Swap the previous version of a variant back in (Authorization: Bearer <RECO_ADMIN_TOKEN>)',
        security: ADMIN_SECURITY,
        params: rollbackParamsSchema,
        response: { 200: rollbackResponseSchema, 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema },
      },
      onRequest: async (request) => authorizeAdmin(request, adminToken),
    },
    async (request): Promise<RollbackResponse> => {
      const { variant } = request.params;
      const result = models.rollback(variant);
      metrics.swaps.inc({ variant, kind: 'rollback' });
      metrics.liveVersion.set({ variant }, result.version);
      request.log.warn({ variant, version: result.version, rolledBackFrom: result.retiredVersion }, 'rolled back');
      return { variant, version: result.version, rolledBackFrom: result.retiredVersion ?? result.version };
    },
  );
};
