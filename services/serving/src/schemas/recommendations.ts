import { idSchema, variantNameSchema } from './common.js';
import { categorySchema } from './items.js';

export const MAX_K = 100;
export const MAX_LIST = 1000;

const k = { type: 'integer', minimum: 1, maximum: MAX_K, default: 10, description: 'How many items to return.' } as const;
const excludeSeen = { type: 'boolean', default: true, description: "Leave out items already in the user's history." } as const;
const category = { ...categorySchema, description: 'Only items with this category (any case), e.g. Comedy.' } as const;
const exclude = { type: 'array', maxItems: MAX_LIST, items: idSchema, description: 'Items never to return (in a query string: repeat the parameter, `exclude=a&exclude=b`).' } as const;

export const recommendationsQuerySchema = {
  type: 'object',
  required: ['userId'],
  additionalProperties: false,
  properties: { userId: idSchema, k, variant: variantNameSchema, excludeSeen, category, exclude },
} as const;

export interface RecommendationsQuery {
  userId: string;
  k: number;
  variant?: string;
  excludeSeen: boolean;
  category?: string;
  exclude?: string[];
}

export const recommendationsBodySchema = {
  type: 'object',
  required: ['userId'],
  additionalProperties: false,
  properties: {
    userId: idSchema,
    k,
    variant: variantNameSchema,
    excludeSeen,
    history: {
      type: 'array',
      maxItems: MAX_LIST,
      items: idSchema,
      description: "The user's recent items, oldest first; replaces the history this replica keeps for the user.",
    },
    exclude,
    category,
  },
} as const;

export interface RecommendationsBody extends RecommendationsQuery {
  history?: string[];
}

export const recommendationsResponseSchema = {
  type: 'object',
  required: ['userId', 'variant', 'method', 'version', 'backboneId', 'historyLength', 'items'],
  additionalProperties: false,
  properties: {
    userId: { type: 'string' },
    variant: { type: 'string', description: 'The variant that answered.' },
    method: { type: 'string' },
    version: { type: 'integer', description: 'Snapshot version that answered (0 = the frozen backbone, no snapshot).' },
    backboneId: { type: 'string' },
    fallback: {
      type: 'string',
      enum: ['popularity'],
      description: 'Present when the user had no history: the items are the most popular ones (pretraining counts blended with live clicks), then the rest of the catalogue.',
    },
    historyLength: { type: 'integer', description: 'History items the answer was computed from.' },
    items: {
      type: 'array',
      description: 'Best first; k of them whenever the catalogue has k the filters let through (a model answer that comes up short is completed from the fallback).',
      items: {
        type: 'object',
        required: ['itemId', 'score'],
        additionalProperties: false,
        properties: {
          itemId: { type: 'string' },
          score: { type: 'number', description: "The model's score, or the popularity of a fallback item (0: catalogue order)." },
          title: { type: 'string', description: 'When the catalogue has one.' },
          categories: { type: 'array', items: { type: 'string' }, description: 'When the catalogue has any.' },
        },
      },
    },
  },
} as const;

export interface RecommendationsResponse {
  userId: string;
  variant: string;
  method: string;
  version: number;
  backboneId: string;
  fallback?: 'popularity';
  historyLength: number;
  items: RecommendedItem[];
}

export interface RecommendedItem {
  itemId: string;
  score: number;
  title?: string;
  categories?: string[];
}
