import { errorResponseSchema } from './common.js';

export const MAX_EVENTS_PER_REQUEST = 500;

/**
 * Deliberately loose: the event contract (`validateEvent` of @reco/stream) is the one judge of an
 * event, so that every issue of every event is reported with its field, the invalid ones can be
 * dead-lettered exactly as sent, and Ajv never coerces an event ("ts": "1" must stay invalid).
 */
export const eventsBodySchema = {
  type: 'object',
  description:
    'One event `{userId, itemId, type: click|view|purchase, ts (epoch ms), requestId?}`, or a batch `{events: [event, ...]}` of at most ' +
    `${MAX_EVENTS_PER_REQUEST}.`,
  properties: { events: { type: 'array', minItems: 1, maxItems: MAX_EVENTS_PER_REQUEST, items: {} } },
} as const;

export type EventsBody = Record<string, unknown> & { events?: unknown[] };

export const eventsAcceptedSchema = {
  type: 'object',
  required: ['accepted'],
  additionalProperties: false,
  properties: { accepted: { type: 'integer', description: 'Events produced to reco.events with acks from all in-sync replicas.' } },
} as const;

export const eventsRejectedSchema = {
  ...errorResponseSchema,
  // Also the shape of a schema 400 (no accepted/rejected counts then: nothing was looked at).
  required: ['code', 'message', 'issues'],
  properties: {
    ...errorResponseSchema.properties,
    accepted: { type: 'integer', description: 'Valid events of the batch, produced anyway.' },
    rejected: { type: 'integer', description: 'Invalid events, written to the dead-letter topic with their reasons.' },
  },
} as const;
