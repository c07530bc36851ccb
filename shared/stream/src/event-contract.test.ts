import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent, formatIssues, validateEvent, type RecoEvent } from './event-contract.js';

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
});
