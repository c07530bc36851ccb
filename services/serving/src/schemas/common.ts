import { MAX_ID_LENGTH } from '@reco/stream';
import type { FieldIssue, ServingErrorCode } from '../errors.js';

/** Every error response: a stable code, a sentence, and the fields at fault when there are any. */
export const errorResponseSchema = {
  type: 'object',
  required: ['code', 'message'],
  additionalProperties: false,
  properties: {
    code: { type: 'string', description: 'Stable RECO_ERR_* code (see the README).' },
    message: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        additionalProperties: false,
        properties: {
          field: { type: 'string', description: 'The field as the client wrote it: `k`, `history[3]`, `events[2].ts`.' },
          message: { type: 'string' },
          index: { type: 'integer', description: 'Index in the events batch, for POST /v1/events.' },
        },
      },
    },
  },
} as const;

export interface ErrorResponse {
  code: ServingErrorCode;
  message: string;
  issues?: FieldIssue[];
}

/** Variant names are label values and topic keys: keep them short and boring. */
export const variantNameSchema = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'A variant name, e.g. ladder, lora, frozen.' } as const;

/** Schema keyword for the event contract's id rule (see validator.ts); `x-` so OpenAPI tools skip it. */
export const ID_KEYWORD = 'x-reco-id';

export const idSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_ID_LENGTH,
  [ID_KEYWORD]: true,
  description: 'No control characters, not made only of invisible characters (whitespace, zero-width).',
} as const;
