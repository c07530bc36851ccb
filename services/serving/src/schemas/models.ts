import { variantNameSchema } from './common.js';

const nullableNumber = { type: ['number', 'null'] } as const;

export const modelInfoSchema = {
  type: 'object',
  required: ['variant', 'method', 'version', 'backboneId', 'offsets', 'examplesTrained', 'figures', 'newestEventTs', 'publishedAt', 'appliedAt', 'previousVersion'],
  additionalProperties: false,
  properties: {
    variant: { type: 'string' },
    method: { type: 'string' },
    version: { type: 'integer' },
    backboneId: { type: 'string' },
    offsets: { type: 'object', additionalProperties: { type: 'string' }, description: 'Next reco.events offset per partition the parameters were trained up to.' },
    examplesTrained: { type: 'integer' },
    figures: { type: 'object', additionalProperties: nullableNumber, description: 'Validation figures at publish time.' },
    newestEventTs: { ...nullableNumber, description: 'Epoch ms of the newest event trained on.' },
    publishedAt: { ...nullableNumber, description: 'Epoch ms the updater published the snapshot (null: built-in frozen model).' },
    appliedAt: { type: 'number', description: 'Epoch ms this replica swapped it in.' },
    previousVersion: { type: ['integer', 'null'], description: 'The version a rollback would bring back.' },
  },
} as const;

export interface ModelInfo {
  variant: string;
  method: string;
  version: number;
  backboneId: string;
  offsets: Record<string, string>;
  examplesTrained: number;
  figures: Record<string, number | null>;
  newestEventTs: number | null;
  publishedAt: number | null;
  appliedAt: number;
  previousVersion: number | null;
}

export const modelsResponseSchema = {
  type: 'object',
  required: ['variants'],
  additionalProperties: false,
  properties: { variants: { type: 'array', items: modelInfoSchema } },
} as const;

export const rollbackParamsSchema = {
  type: 'object',
  required: ['variant'],
  additionalProperties: false,
  properties: { variant: variantNameSchema },
} as const;

export const rollbackResponseSchema = {
  type: 'object',
  required: ['variant', 'version', 'rolledBackFrom', 'restores'],
  additionalProperties: false,
  properties: {
    variant: { type: 'string' },
    version: { type: 'integer', description: 'The rollback record\'s version (newest + 1): what answers now, on every replica.' },
    rolledBackFrom: { type: 'integer', description: 'The version withdrawn.' },
    restores: { type: 'integer', description: 'The version whose parameters, offsets and figures answer again.' },
  },
} as const;

export interface RollbackResponse {
  variant: string;
  version: number;
  rolledBackFrom: number;
  restores: number;
}
