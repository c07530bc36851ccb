import { describe, expect, it } from 'vitest';
import { MAX_ID_LENGTH, MAX_UNKNOWN_FIELD_ISSUES, decodeEvent, encodeEvent, formatIssues, idIssue, validateEvent, type RecoEvent } from './event-contract.js';

const valid: RecoEvent = { userId: 'u1', itemId: 'i9', type: 'click', ts: Date.UTC(2026, 10, 1) };

function fieldsOf(input: unknown): string[] {
  const result = validateEvent(input);
  return result.ok ? [] : result.issues.map((i) => i.field);
}

describe('event contract', () => {
  it('accepts a valid event, with and without requestId and schema version', () => {
    expect(validateEvent(valid)).toEqual({ ok: true, value: valid });
    expect(validateEvent({ ...valid, v: 1, requestId: 'r-1' })).toEqual({ ok: true, value: { ...valid, requestId: 'r-1' } });
  });

  it('round-trips through encode and decode', () => {
    const bytes = encodeEvent({ ...valid, requestId: 'r' });
    expect(JSON.parse(bytes.toString())).toMatchObject({ v: 1 });
    expect(decodeEvent(bytes)).toEqual({ ok: true, value: { ...valid, requestId: 'r' } });
  });

  it('reports every problem of a message at once, each with its field', () => {
    const result = validateEvent({ userId: '', itemId: 7, type: 'like', ts: 'yesterday', extra: true });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.field).sort()).toEqual(['extra', 'itemId', 'ts', 'type', 'userId']);
    expect(formatIssues(result.issues)).toContain('unknown event type "like"');
  });

  it.each([
    ['missing userId', { itemId: 'i', type: 'click', ts: valid.ts }, ['userId'], 'is required'],
    ['missing itemId', { userId: 'u', type: 'click', ts: valid.ts }, ['itemId'], 'is required'],
    ['missing type', { userId: 'u', itemId: 'i', ts: valid.ts }, ['type'], 'is required'],
    ['missing ts', { userId: 'u', itemId: 'i', type: 'click' }, ['ts'], 'is required'],
    ['userId wrong type', { ...valid, userId: 42 }, ['userId'], 'must be a string'],
    ['empty itemId', { ...valid, itemId: '  ' }, ['itemId'], 'must not be empty'],
    ['id too long', { ...valid, userId: 'x'.repeat(129) }, ['userId'], 'at most 128'],
    ['unknown type', { ...valid, type: 'hover' }, ['type'], 'unknown event type'],
    ['ts NaN-like', { ...valid, ts: 1.5e12 + 0.5 }, ['ts'], 'finite integer'],
    ['ts in seconds', { ...valid, ts: 1_764_000_000 }, ['ts'], 'looks like seconds'],
    ['ts far future', { ...valid, ts: 9e15 }, ['ts'], 'outside'],
    ['unknown schema version', { ...valid, v: 2 }, ['v'], 'unsupported schema version'],
    ['requestId wrong type', { ...valid, requestId: 5 }, ['requestId'], 'must be a string'],
    ['a NUL userId', { ...valid, userId: '\u0000' }, ['userId'], 'control character (U+0000 at index 0)'],
    ['a NUL inside an itemId', { ...valid, itemId: 'item\u00001' }, ['itemId'], 'control character (U+0000 at index 4)'],
    ['a newline in a requestId', { ...valid, requestId: 'r\n1' }, ['requestId'], 'control character (U+000A'],
    ['a C1 control character', { ...valid, userId: 'u\u0085' }, ['userId'], 'control character (U+0085'],
    ['a line separator', { ...valid, userId: 'u\u2028v' }, ['userId'], 'line or paragraph separator'],
    ['an unpaired surrogate', { ...valid, itemId: 'i\uD800' }, ['itemId'], 'unpaired UTF-16 surrogate'],
    ['a zero-width space userId', { ...valid, userId: '\u200B' }, ['userId'], 'only of invisible characters'],
    ['an id of zero-width and format characters', { ...valid, itemId: '\u200B\u200C\u200D\u2060\uFEFF\u00AD' }, ['itemId'], 'only of invisible characters'],
    ['an id of Hangul fillers and a braille blank', { ...valid, userId: '\u3164\u2800' }, ['userId'], 'only of invisible characters'],
    ['an id of non-breaking and ideographic spaces', { ...valid, userId: '\u00A0\u3000' }, ['userId'], 'only of invisible characters'],
    ['an empty userId', { ...valid, userId: '' }, ['userId'], 'must not be empty'],
  ])('rejects %s', (_name, input, fields, text) => {
    const result = validateEvent(input);
    expect(fieldsOf(input)).toEqual(fields);
    expect(result.ok ? '' : formatIssues(result.issues)).toContain(text);
  });

  it.each([
    ['not JSON', Buffer.from('{"userId": '), 'not JSON'],
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x7b]), 'not JSON'],
    ['empty body', Buffer.alloc(0), 'empty message body'],
    ['a JSON array', Buffer.from('[1,2]'), 'must be a JSON object, got an array'],
    ['JSON null', Buffer.from('null'), 'must be a JSON object, got null'],
  ])('decodeEvent rejects a body that is %s', (_name, bytes, text) => {
    const result = decodeEvent(bytes);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]?.field).toBe('$');
      expect(result.issues[0]?.message).toContain(text);
    }
  });

  it('accepts ids with visible text around invisible or non-ASCII characters', () => {
    for (const id of ['u\u200Bv', 'caf\u00E9', '\u{1F600}', 'a b', '\u0645\u0633\u062A\u062E\u062F\u0645', 'x'.repeat(MAX_ID_LENGTH - 2) + '\u{1F600}']) {
      expect(idIssue(id), JSON.stringify(id)).toBeUndefined();
      expect(validateEvent({ ...valid, userId: id, itemId: id }).ok).toBe(true);
    }
  });

  it('checks the length before anything else, so a huge id costs one comparison and a short sentence', () => {
    const huge = '\u0000'.repeat(1_000_000);
    expect(idIssue(huge)).toBe(`is 1000000 characters; at most ${MAX_ID_LENGTH}`);
  });

  it('keeps issues short whatever was sent: long unknown field names are clipped, many are counted', () => {
    const body: Record<string, unknown> = { ...valid, type: 't'.repeat(10_000) };
    for (let i = 0; i < 1000; i += 1) body[`${'k'.repeat(5000)}${i}`] = i;
    const result = validateEvent(body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1 + MAX_UNKNOWN_FIELD_ISSUES + 1);
    expect(result.issues.at(-1)).toEqual({ field: '$', message: `has ${1000 - MAX_UNKNOWN_FIELD_ISSUES} more fields that are not in the event schema` });
    expect(formatIssues(result.issues).length).toBeLessThan(2000);
  });

  it('never cuts a quoted value between the halves of a surrogate pair', () => {
    const result = validateEvent({ ...valid, type: `${'x'.repeat(39)}\u{1F600}tail` });
    const message = result.ok ? '' : (result.issues[0]?.message ?? '');
    expect(message).toContain('unknown event type');
    expect(/\p{Cs}/u.test(message)).toBe(false);
  });
});
