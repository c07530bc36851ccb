export const healthResponseSchema = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: { type: 'string', const: 'ok' } },
} as const;

export const readyResponseSchema = {
  type: 'object',
  required: ['status', 'reasons'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['ready', 'not-ready'] },
    reasons: { type: 'array', items: { type: 'string' }, description: 'Why the replica is not ready (empty when ready).' },
  },
} as const;

export interface ReadyResponse {
  status: 'ready' | 'not-ready';
  reasons: string[];
}
