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
/** Unknown fields named one by one, then counted: a body of 10,000 unknown keys must not become 10,000 issues. */
export const MAX_UNKNOWN_FIELD_ISSUES = 10;
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
    issues.push({ field: 'type', message: `unknown event type "${clip(body.type)}"; expected one of ${EVENT_TYPES.join(', ')}` });
  }

  if (body.ts === undefined) issues.push({ field: 'ts', message: 'is required' });
  else if (typeof body.ts !== 'number') issues.push({ field: 'ts', message: `must be a number (epoch ms), got ${describe(body.ts)}` });
  else if (!Number.isFinite(body.ts) || !Number.isInteger(body.ts)) {
    issues.push({ field: 'ts', message: `must be a finite integer epoch-ms, got ${body.ts}` });
  } else if (body.ts < MIN_TS_MS || body.ts > MAX_TS_MS) {
    const hint = body.ts >= MIN_TS_MS / 1000 && body.ts <= MAX_TS_MS / 1000 ? ' (looks like seconds; send milliseconds)' : '';
    issues.push({ field: 'ts', message: `epoch-ms ${body.ts} is outside 2000-01-01..2100-01-01${hint}` });
  }

  const unknown = Object.keys(body).filter((key) => !KNOWN_FIELDS.has(key));
  for (const key of unknown.slice(0, MAX_UNKNOWN_FIELD_ISSUES)) issues.push({ field: clip(key), message: 'is not a field of the event schema' });
  if (unknown.length > MAX_UNKNOWN_FIELD_ISSUES) {
    issues.push({ field: '$', message: `has ${unknown.length - MAX_UNKNOWN_FIELD_ISSUES} more fields that are not in the event schema` });
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
  else {
    const problem = idIssue(value);
    if (problem !== undefined) issues.push({ field, message: problem });
  }
}

// Ids become Kafka keys, log fields and dashboard text. A control character (NUL,
// newline, the Unicode line separators) splits or truncates them in logs and C-based tools; an
// unpaired surrogate cannot be encoded as UTF-8 (Buffer.from would turn it into U+FFFD, so the key
// on Kafka would differ from the id accepted); an id of only invisible characters (a zero-width
// space) looks empty everywhere it is shown and is indistinguishable from its neighbours.
const FORBIDDEN_IN_ID = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]/u;
const INVISIBLE = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cf}\u2800]*$/u;

/**
 * The one rule for a string id (userId, itemId, requestId), shared by the event contract and the
 * serving API's schemas: undefined when acceptable, else a sentence saying what is wrong.
 */
export function idIssue(value: string): string | undefined {
  // Length first: the other checks then only ever look at a bounded string.
  if (value.length > MAX_ID_LENGTH) return `is ${value.length} characters; at most ${MAX_ID_LENGTH}`;
  const forbidden = FORBIDDEN_IN_ID.exec(value);
  if (forbidden !== null) {
    const code = forbidden[0].codePointAt(0) ?? 0;
    const what = code >= 0xd800 && code <= 0xdfff ? 'an unpaired UTF-16 surrogate' : code === 0x2028 || code === 0x2029 ? 'a line or paragraph separator' : 'a control character';
    return `contains ${what} (U+${code.toString(16).toUpperCase().padStart(4, '0')} at index ${forbidden.index})`;
  }
  if (INVISIBLE.test(value)) return 'must not be empty or made only of invisible characters (whitespace, zero-width or format characters)';
  return undefined;
}

/** Client text quoted in an issue is cut short: an issue must stay a sentence, whatever was sent. */
function clip(text: string): string {
  if (text.length <= 40) return text;
  // Never cut between the two halves of a surrogate pair (that would leave a lone surrogate).
  const end = /[\uD800-\uDBFF]/.test(text.charAt(39)) ? 39 : 40;
  return `${text.slice(0, end)}…`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string "${clip(value)}"`;
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
