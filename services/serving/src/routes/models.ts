import type { FastifyPluginAsync } from 'fastify';
import { ADMIN_SECURITY } from '../plugins/docs.js';
import { ServingError } from '../errors.js';
import { errorResponseSchema } from '../schemas/common.js';
import type { RollbackRecords } from '../rollback-record.js';
import { authorizeAdmin } from './admin-auth.js';
import { modelsResponseSchema, rollbackParamsSchema, rollbackResponseSchema, type ModelInfo, type RollbackResponse } from '../schemas/models.js';

export interface ModelRoutesOptions {
  /** Bearer token of the rollback route; undefined disables it (every token is refused). */
  adminToken: string | undefined;
  /** Publishes rollback records and waits for them (undefined: this app has no snapshot consumer, and every rollback is a 503). */
  rollback: RollbackRecords | undefined;
}

export const modelRoutes: FastifyPluginAsync<ModelRoutesOptions> = async (app, { adminToken, rollback }) => {
  const { models } = app;

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
        summary: 'Bring the previous version of a variant back on every replica and the updater (Authorization: Bearer <RECO_ADMIN_TOKEN>)',
        description:
          'Publishes the previous version\'s snapshot again on reco.adapters, as the newest version, with meta.rollback, and answers once this replica has applied it: every replica applies it in log order, and the updater trains on from its parameters and offsets.',
        security: ADMIN_SECURITY,
        params: rollbackParamsSchema,
        response: {
          200: rollbackResponseSchema,
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
          409: errorResponseSchema,
          503: errorResponseSchema,
          504: errorResponseSchema,
        },
      },
      onRequest: async (request) => authorizeAdmin(request, adminToken),
    },
    async (request): Promise<RollbackResponse> => {
      const { variant } = request.params;
      if (!models.has(variant)) throw new ServingError('RECO_ERR_UNKNOWN_VARIANT', `variant "${variant}" is not live; live variants: ${models.variants().join(', ')}`);
      if (rollback === undefined) throw new ServingError('RECO_ERR_NOT_READY', 'this app publishes no rollback records (it has no snapshot consumer)');
      const done = await rollback.rollback(variant);
      request.log.warn(done, 'rolled back: the rollback record is applied here, and published for every replica and the updater');
      return done;
    },
  );
};
