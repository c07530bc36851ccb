import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedJson } from './bounded-json.js';

describe('boundedJson', () => {
  it('writes exactly what JSON.stringify writes for any JSON value under the ceiling', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(boundedJson(value, 1_000_000)).toEqual({ text: JSON.stringify(value), complete: true });
      }),
      { numRuns: 500 },
    );
  });

  it('stops at the ceiling with a prefix of the full text, marked incomplete', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 200 }), (value, maxChars) => {
        const full = JSON.stringify(value);
        const bounded = boundedJson(value, maxChars);
        if (full.length <= maxChars) expect(bounded).toEqual({ text: full, complete: true });
        else expect(bounded).toEqual({ text: full.slice(0, maxChars), complete: false });
      }),
      { numRuns: 500 },
    );
  });

  it('encodes nesting far deeper than JSON.stringify survives (the dead letter of finding A)', () => {
    const depth = 200_000;
    const text = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const deep: unknown = JSON.parse(text);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(boundedJson(deep, 1_000_000)).toEqual({ text, complete: true });
    const objects: unknown = JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    expect(boundedJson(objects, 100)).toEqual({ text: '{"a":'.repeat(20), complete: false });
  });

  it('returns for values JSON.parse never makes: cycles, bigints, throwing getters, revoked proxies', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const cut = boundedJson(cycle, 1000);
    expect(cut.complete).toBe(false);
    expect(cut.text).toHaveLength(1000);
    expect(cut.text.startsWith('{"a":1,"self":{"a":1,"self":')).toBe(true);
    expect(boundedJson({ n: 10n, f: () => 1, u: undefined, s: Symbol('x') }, 100)).toEqual({ text: '{"n":null}', complete: true });
    const getter = { ok: 1, get bad(): never { throw new Error('boom'); } };
    expect(boundedJson(getter, 100)).toEqual({ text: '', complete: false });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(boundedJson([1, proxy], 100)).toEqual({ text: '[1,', complete: false });
  });

  it('cuts a huge string leaf before encoding it', () => {
    const huge = 'x'.repeat(5_000_000);
    expect(boundedJson({ userId: huge }, 64)).toEqual({ text: `{"userId":"${'x'.repeat(53)}`, complete: false });
  });
});
