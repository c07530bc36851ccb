import type { FastifyPluginAsync } from 'fastify';
import type { Producer, TopicSpec } from '@reco/stream';
import { ServingError } from '../errors.js';
import type { ItemDirectory, ItemRecord } from '../item-directory.js';
import { ItemWriter } from '../item-writer.js';
import { ADMIN_SECURITY } from '../plugins/docs.js';
import { errorResponseSchema } from '../schemas/common.js';
import { itemBodySchema, itemParamsSchema, itemResponseSchema, type ItemBody, type ItemParams, type ItemResponse } from '../schemas/items.js';
import { authorizeAdmin } from './admin-auth.js';

export interface ItemRoutesOptions {
  directory: ItemDirectory;
  /** Where catalogue writes go (`reco.items`), through the app's producer. */
  topic: TopicSpec;
  producer: Producer;
  /** Bearer token of the write route; undefined disables it (every token is refused). */
  adminToken: string | undefined;
}

const response = (record: ItemRecord): ItemResponse => ({ ...record, categories: [...record.categories] });

export const itemRoutes: FastifyPluginAsync<ItemRoutesOptions> = async (app, { directory, topic, producer, adminToken }) => {
  const writer = new ItemWriter({ producer, topic, directory });

  app.get<{ Params: ItemParams }>(
    '/v1/items/:itemId',
    {
      schema: {
        summary: 'What this replica knows about an item: title, categories, whether it may be recommended',
        params: itemParamsSchema,
        response: { 200: itemResponseSchema, 400: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const record = directory.get(request.params.itemId);
      if (record === undefined) throw new ServingError('RECO_ERR_UNKNOWN_ITEM', `item ${request.params.itemId} is neither in the backbone's vocabulary nor written through PUT /v1/items/:itemId`);
      return response(record);
    },
  );

  app.put<{ Params: ItemParams; Body: ItemBody }>(
    '/v1/items/:itemId',
    {
      schema: {
        summary: 'Create or change an item (Authorization: Bearer <RECO_ADMIN_TOKEN>): every replica serves the change within about a second',
        security: ADMIN_SECURITY,
        params: itemParamsSchema,
        body: itemBodySchema,
        response: { 200: itemResponseSchema, 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 413: errorResponseSchema, 503: errorResponseSchema },
      },
      onRequest: async (request) => authorizeAdmin(request, adminToken),
    },
    async (request) => {
      const record = await writer.put(request.params.itemId, request.body);
      request.log.info({ itemId: record.itemId, available: record.available }, 'item written');
      return response(record);
    },
  );
};
