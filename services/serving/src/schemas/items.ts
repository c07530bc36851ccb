import { MAX_CATEGORIES, MAX_TITLE_LENGTH } from '../item-records.js';
import { idSchema } from './common.js';

/** A category label: the id rule (no control characters, not only invisible ones), up to 128 characters. */
export const categorySchema = { ...idSchema, description: 'A category label, e.g. Comedy (matched in any case).' } as const;

export const itemParamsSchema = {
  type: 'object',
  required: ['itemId'],
  additionalProperties: false,
  properties: { itemId: idSchema },
} as const;

export interface ItemParams {
  itemId: string;
}

export const itemBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'The fields to change; the ones left out keep their value (a new item starts untitled, without categories, available).',
  properties: {
    title: {
      type: ['string', 'null'],
      minLength: 1,
      maxLength: MAX_TITLE_LENGTH,
      // No control characters or unpaired surrogates: titles are shown in pages and logs.
      pattern: '^[^\\p{Cc}\\p{Cs}\\u2028\\u2029]*$',
      description: 'What answers show for the item; null removes it.',
    },
    categories: { type: 'array', maxItems: MAX_CATEGORIES, uniqueItems: true, items: categorySchema, description: 'Replaces the item\'s categories.' },
    available: { type: 'boolean', description: 'false: never recommended (by the model or the fallback) until set back to true.' },
  },
} as const;

export interface ItemBody {
  title?: string | null;
  categories?: string[];
  available?: boolean;
}

export const itemResponseSchema = {
  type: 'object',
  required: ['itemId', 'title', 'categories', 'available', 'updatedAt'],
  additionalProperties: false,
  properties: {
    itemId: { type: 'string' },
    title: { type: ['string', 'null'] },
    categories: { type: 'array', items: { type: 'string' } },
    available: { type: 'boolean' },
    updatedAt: { type: ['number', 'null'], description: 'Epoch ms of the last write through the API; null when the backbone checkpoint is all there is.' },
  },
} as const;

export interface ItemResponse {
  itemId: string;
  title: string | null;
  categories: string[];
  available: boolean;
  updatedAt: number | null;
}
