/**
 * The contract of messages on `reco.events`: one JSON object per user interaction, keyed by userId.
 *
 *   { v: 1, userId, itemId, type: "click" | "view" | "purchase", ts, requestId? }
 *
 * `v` is the schema version; producers may omit it (it means 1), consumers reject versions they do
 * not know. Validation is strict and returns every reason a message is invalid, each naming its
 * field, so an HTTP 400 or a dead-letter record can say exactly what is wrong.
 */
export const EVENT_SCHEMA_VERSION = 1;
export const EVENT_TYPES = ['click', 'view', 'purchase'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const MAX_ID_LENGTH = 128;
/** Plausible epoch-ms range: catches seconds-instead-of-ms and garbage without rejecting real data. */
export const MIN_TS_MS = Date.UTC(2000, 0, 1);
export const MAX_TS_MS = Date.UTC(2100, 0, 1);

export interface RecoEvent {
  userId: string;
  itemId: string;
  type: EventType;
  /** Event time, epoch milliseconds. */
  ts: number;
  /** The recommendation request this interaction answers, if any (for attribution). */
  requestId?: string;
}

export interface ValidationIssue {
  /** The offending field, or `$` for the message as a whole. */
  field: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

const KNOWN_FIELDS = new Set(['v', 'userId', 'itemId', 'type', 'ts', 'requestId']);

export function validateEvent(input: unknown): ValidationResult<RecoEvent> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ field: '$', message: `must be a JSON object, got ${describe(input)}` }] };
  }
  const body = input as Record<string, unknown>;
  const issues: ValidationIssue[] = [];

  if (body.v !== undefined && body.v !== EVENT_SCHEMA_VERSION) {
    issues.push({ field: 'v', message: `unsupported schema version ${describe(body.v)}; this consumer reads version ${EVENT_SCHEMA_VERSION}` });
  }
  checkId(body, 'userId', true, issues);
  checkId(body, 'itemId', true, issues);
  checkId(body, 'requestId', false, issues);

  if (body.type === undefined) issues.push({ field: 'type', message: 'is required' });
  else if (typeof body.type !== 'string') issues.push({ field: 'type', message: `must be a string, got ${describe(body.type)}` });
  else if (!(EVENT_TYPES as readonly string[]).includes(body.type)) {
    issues.push({ field: 'type', message: `unknown event type "${body.type}"; expected one of ${EVENT_TYPES.join(', ')}` });
  }

  if (body.ts === undefined) issues.push({ field: 'ts', message: 'is required' });
  else if (typeof body.ts !== 'number') issues.push({ field: 'ts', message: `must be a number (epoch ms), got ${describe(body.ts)}` });
  else if (!Number.isFinite(body.ts) || !Number.isInteger(body.ts)) {
    issues.push({ field: 'ts', message: `must be a finite integer epoch-ms, got ${body.ts}` });
  } else if (body.ts < MIN_TS_MS || body.ts > MAX_TS_MS) {
    const hint = body.ts >= MIN_TS_MS / 1000 && body.ts <= MAX_TS_MS / 1000 ? ' (looks like seconds; send milliseconds)' : '';
    issues.push({ field: 'ts', message: `epoch-ms ${body.ts} is outside 2000-01-01..2100-01-01${hint}` });
  }

  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) issues.push({ field: key, message: 'is not a field of the event schema' });
  }

  if (issues.length > 0) return { ok: false, issues };
  const event: RecoEvent = {
    userId: body.userId as string,
    itemId: body.itemId as string,
    type: body.type as EventType,
    ts: body.ts as number,
  };
  if (body.requestId !== undefined) event.requestId = body.requestId as string;
  return { ok: true, value: event };
}

function checkId(body: Record<string, unknown>, field: string, required: boolean, issues: ValidationIssue[]): void {
  const value = body[field];
  if (value === undefined) {
    if (required) issues.push({ field, message: 'is required' });
    return;
  }
  if (typeof value !== 'string') issues.push({ field, message: `must be a string, got ${describe(value)}` });
  else if (value.trim().length === 0) issues.push({ field, message: 'must not be empty' });
  else if (value.length > MAX_ID_LENGTH) issues.push({ field, message: `is ${value.length} characters; at most ${MAX_ID_LENGTH}` });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

export function encodeEvent(event: RecoEvent): Buffer {
  return Buffer.from(JSON.stringify({ v: EVENT_SCHEMA_VERSION, ...event }));
}

/** Decodes raw message bytes; a body that is not UTF-8 JSON is an issue on `$`, like any other. */
export function decodeEvent(raw: Buffer | null): ValidationResult<RecoEvent> {
  if (raw === null || raw.length === 0) return { ok: false, issues: [{ field: '$', message: 'empty message body' }] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (error) {
    return { ok: false, issues: [{ field: '$', message: `body is not JSON: ${(error as Error).message}` }] };
  }
  return validateEvent(parsed);
}

export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => (i.field === '$' ? i.message : `${i.field} ${i.message}`)).join('; ');
}
