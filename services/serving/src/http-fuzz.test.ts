import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testKafkaBrokers } from '@reco/stream/testing';
import { MAX_PARAM_LENGTH } from './app.js';
import { SERVING_ERRORS, type ServingErrorCode } from './errors.js';
import { MAX_JSON_DEPTH } from './json-body.js';
import { ADMIN_TOKEN, useFileHarness } from './testing/harness.js';

// Issue 10, "HTTP input that never causes a 500": random and hostile requests to every route of
// the app as buildApp makes it, with a real producer on the real broker of this run. Whatever
// arrives, the answer is below 500, every error body carries a catalogue code sent with its
// catalogue status, no body shows the broker's address, and the service still serves afterwards.

const file = useFileHarness();

interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD';
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** encodeURIComponent throws on an unpaired surrogate; such a client sends its CESU-8 bytes instead. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

// What a hostile client puts where an id goes.
const hostileText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\u0007',
    '\r\n',
    '\u2028',
    '\u200B',
    '\u200B\u200C\u200D\uFEFF',
    '\u3164',
    '\u2800',
    '\u00AD',
    '\uD800',
    'a\uDFFF',
    'x'.repeat(129),
    'x'.repeat(20_000),
    '__proto__',
    'constructor',
    'item-1',
    'u1',
    '../../etc/passwd',
    '%00',
    '${jndi:ldap://x}',
    '<script>',
  ),
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
);

const deepText = fc
  .tuple(fc.integer({ min: MAX_JSON_DEPTH - 2, max: 12_000 }), fc.boolean())
  .map(([depth, objects]) => (objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`));

/** JSON text of a field value: hostile strings, ordinary JSON, deep nesting, odd numbers. */
const valueText = fc.oneof(
  { weight: 3, arbitrary: hostileText.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: deepText },
  { weight: 1, arbitrary: fc.constantFrom('1e400', '-0', '1.5', String(Date.now()), '1764000000', 'null', 'true', '[]', '{}', '"click"') },
);

const idText = fc.oneof(fc.constantFrom('"fuzz-user"', '"item-3"', '"item-7"'), valueText);

/** A JSON object's text from optional fields, plus sometimes a field nobody asked for. */
function objectText(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  return fc.tuple(fc.record(fields, { requiredKeys: [] }), fc.option(fc.tuple(hostileText, valueText), { freq: 4 })).map(([record, extra]) => {
    const entries = Object.entries(record as Record<string, string>).map(([k, v]) => `${JSON.stringify(k)}:${v}`);
    if (extra !== null) entries.push(`${JSON.stringify(extra[0])}:${extra[1]}`);
    return `{${entries.join(',')}}`;
  });
}

const validEventText = fc.constantFrom('click', 'view', 'purchase').map((type) => JSON.stringify({ userId: 'fuzz-user', itemId: 'item-2', type, ts: Date.now() }));
const eventText = objectText({
  userId: idText,
  itemId: idText,
  type: fc.oneof(fc.constantFrom('"click"', '"view"', '"purchase"'), valueText),
  ts: fc.oneof(fc.constant(String(Date.now())), valueText),
  requestId: idText,
  v: fc.oneof(fc.constant('1'), valueText),
});
const eventsBody = fc.oneof(
  eventText,
  fc.array(fc.oneof(validEventText, eventText, valueText), { maxLength: 8 }).map((items) => `{"events":[${items.join(',')}]}`),
  valueText,
);

const idListText = fc.oneof(fc.array(idText, { maxLength: 6 }).map((ids) => `[${ids.join(',')}]`), valueText);
const recommendationsBody = fc.oneof(
  objectText({
    userId: idText,
    k: fc.oneof(fc.constantFrom('1', '5', '100'), valueText),
    variant: fc.oneof(fc.constantFrom('"frozen"', '"ladder"', '"nope"'), valueText),
    excludeSeen: fc.oneof(fc.constantFrom('true', 'false'), valueText),
    history: idListText,
    exclude: idListText,
  }),
  valueText,
);

const rawQueryValue = fc.oneof(
  hostileText.map(encode),
  fc.constantFrom('%00', '%E2%80%8B', '%ED%A0%80', '%', '%zz', '%C0%AF', 'x'.repeat(5000), '5', '1000', '-1', 'true', 'frozen'),
);
const queryString = fc
  .array(fc.tuple(fc.constantFrom('userId', 'userId', 'k', 'variant', 'excludeSeen', 'x', '__proto__', 'userId[]', ''), rawQueryValue), { maxLength: 5 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'application/json;;;',
  'application/jsonx',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '/',
  '',
);

const authorizationValue = fc.constantFrom<string>(`Bearer ${ADMIN_TOKEN}`, 'Bearer wrong', 'Bearer', 'Basic eDp5', `Bearer ${'a'.repeat(10_000)}`, `bearer   ${ADMIN_TOKEN}  `);
const authorization = fc.option(authorizationValue, { nil: undefined });

const variantSegment = fc.oneof(
  fc.constantFrom('ladder', 'frozen', 'nope', '%00', '%E0%A4%A', '%', '..', '%2F', 'a%20b', '%E2%80%8B', 'x'.repeat(MAX_PARAM_LENGTH + 1), 'x'.repeat(5000)),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encode),
);

const oddPath = fc.oneof(
  // A request line always has a path; light-my-request cannot inject an empty one.
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
  fc.constantFrom(
    '/',
    '//',
    '/v1',
    '/v1/',
    '/v1/events/',
    '/V1/EVENTS',
    '/v1/recommendations/',
    '/%',
    '/%zz',
    '/v1/%E0%A4%A',
    '/healthz?x=%',
    '/readyz/..',
    '/docs/json?',
    '/metrics/%00',
    '/v1/models/',
    '/v1/models//rollback',
    '/v1/models/ladder/rollback/extra',
    `/${'a'.repeat(8000)}`,
  ),
);

const extraHeaders = fc.record(
  {
    'content-type': contentType,
    authorization: authorizationValue,
    'x-big': fc.constant('x'.repeat(20_000)),
    'content-length': fc.constantFrom('0', '1', '5', '99999'),
    'accept-version': fc.constantFrom('1.0.0', '*', 'garbage'),
    'transfer-encoding': fc.constant('chunked'),
  },
  { requiredKeys: [] },
);

const method = fc.constantFrom<FuzzRequest['method']>('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

const request: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.record({ method: fc.constantFrom<FuzzRequest['method']>('GET', 'HEAD'), url: queryString.map((q) => `/v1/recommendations?${q}`), headers: fc.constant({}) }),
  fc.record({ method: fc.constant<FuzzRequest['method']>('POST'), url: fc.constant('/v1/recommendations'), headers: contentType.map((ct) => ({ 'content-type': ct })), payload: recommendationsBody }),
  fc.record({ method: fc.constant<FuzzRequest['method']>('POST'), url: fc.constant('/v1/events'), headers: contentType.map((ct) => ({ 'content-type': ct })), payload: eventsBody }),
  // Well-formed batches, so every run reaches the produce path (the status check below): without
  // this branch a run of 1,000 once drew no request that got past validation to a 202.
  fc.record({
    method: fc.constant<FuzzRequest['method']>('POST'),
    url: fc.constant('/v1/events'),
    headers: fc.constant({ 'content-type': 'application/json' }),
    payload: fc.array(validEventText, { minLength: 1, maxLength: 4 }).map((items) => `{"events":[${items.join(',')}]}`),
  }),
  fc.record({
    method: fc.constant<FuzzRequest['method']>('POST'),
    url: variantSegment.map((v) => `/v1/models/${v}/rollback`),
    headers: authorization.map((a): Record<string, string> => (a === undefined ? {} : { authorization: a })),
    payload: fc.option(valueText, { nil: undefined }),
  }),
  fc.record({ method, url: fc.constantFrom('/healthz', '/readyz', '/metrics', '/docs/json', '/v1/models'), headers: fc.constant({}) }),
  fc.record({ method, url: oddPath, headers: extraHeaders, payload: fc.option(fc.oneof(valueText, eventsBody), { nil: undefined }) }),
);

const BROKERS = testKafkaBrokers();

/** The contract every answer keeps, whatever was asked. */
function checkAnswer(req: FuzzRequest, res: { statusCode: number; body: string }): void {
  const what = `${req.method} ${req.url.slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, what).toBeLessThan(500);
  for (const broker of BROKERS) expect(res.body, what).not.toContain(broker);
  if (res.statusCode < 400 || req.method === 'HEAD') return;
  const body = JSON.parse(res.body) as { code: string; message: unknown };
  expect(Object.keys(SERVING_ERRORS), what).toContain(body.code);
  expect(SERVING_ERRORS[body.code as ServingErrorCode].status, what).toBe(res.statusCode);
  expect(typeof body.message, what).toBe('string');
}

async function send(req: FuzzRequest): Promise<{ statusCode: number; body: string; json: <T>() => T }> {
  return file.h.app.inject({ method: req.method, url: req.url, headers: req.headers, ...(req.payload === undefined ? {} : { payload: req.payload }) });
}

async function expectHealthy(): Promise<void> {
  expect((await file.h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  const query = await file.h.app.inject({ url: '/v1/recommendations?userId=after-fuzz&k=3' });
  expect(query.statusCode).toBe(200);
  const body = await file.h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'after-fuzz', k: 3, history: ['item-1', 'item-2'] } });
  expect(body.statusCode).toBe(200);
  expect(body.json<{ items: unknown[] }>().items).toHaveLength(3);
  const event = await file.h.app.inject({ method: 'POST', url: '/v1/events', payload: { userId: 'after-fuzz', itemId: 'item-1', type: 'click', ts: Date.now() } });
  expect(event.statusCode).toBe(202);
}

describe('HTTP fuzz over every route', () => {
  it('the hostile cases of issue 10, one by one, each answered inside the catalogue', async () => {
    const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const cases: { req: Omit<FuzzRequest, 'headers'> & { headers?: Record<string, string> }; code: ServingErrorCode; field?: string }[] = [
      { req: { method: 'GET', url: '/v1/recommendations?userId=%00' }, code: 'RECO_ERR_VALIDATION', field: 'userId' },
      { req: { method: 'GET', url: '/v1/recommendations?userId=%E2%80%8B' }, code: 'RECO_ERR_VALIDATION', field: 'userId' },
      { req: { method: 'GET', url: `/v1/recommendations?userId=${'u'.repeat(20_000)}` }, code: 'RECO_ERR_VALIDATION', field: 'userId' },
      { req: { method: 'POST', url: '/v1/recommendations', payload: JSON.stringify({ userId: '\u200B\uFEFF' }) }, code: 'RECO_ERR_VALIDATION', field: 'userId' },
      { req: { method: 'POST', url: '/v1/recommendations', payload: JSON.stringify({ userId: 'u', history: ['item-1', 'item\u00002'] }) }, code: 'RECO_ERR_VALIDATION', field: 'history[1]' },
      { req: { method: 'POST', url: '/v1/recommendations', payload: JSON.stringify({ userId: 'u', exclude: ['\uD800'] }) }, code: 'RECO_ERR_VALIDATION', field: 'exclude[0]' },
      { req: { method: 'POST', url: '/v1/recommendations', payload: `{"userId":"u","history":${deep(4100)}}` }, code: 'RECO_ERR_JSON_TOO_DEEP', field: '$' },
      { req: { method: 'POST', url: '/v1/recommendations', payload: `{"userId":${deep(20_000)}}` }, code: 'RECO_ERR_JSON_TOO_DEEP', field: '$' },
      { req: { method: 'POST', url: '/v1/recommendations', payload: `{"userId":"u","__proto__":{"k":1}}` }, code: 'RECO_ERR_INVALID_JSON', field: '$' },
      { req: { method: 'POST', url: '/v1/events', payload: JSON.stringify({ userId: '\u0000', itemId: 'i', type: 'click', ts: Date.now() }) }, code: 'RECO_ERR_INVALID_EVENTS', field: 'userId' },
      { req: { method: 'POST', url: '/v1/events', payload: `{"events":[${deep(4100)}]}` }, code: 'RECO_ERR_INVALID_EVENTS', field: 'events[0]' },
      { req: { method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json', 'content-length': '3' }, payload: '{"userId":"u"}' }, code: 'RECO_ERR_MALFORMED_REQUEST' },
      { req: { method: 'POST', url: '/v1/events', headers: { 'content-type': 'text/plain' }, payload: 'hello' }, code: 'RECO_ERR_UNSUPPORTED_MEDIA_TYPE' },
      { req: { method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' }, code: 'RECO_ERR_UNSUPPORTED_MEDIA_TYPE' },
      { req: { method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload: '' }, code: 'RECO_ERR_INVALID_JSON' },
      { req: { method: 'POST', url: '/v1/models/%E0%A4%A/rollback' }, code: 'RECO_ERR_BAD_URL' },
      { req: { method: 'GET', url: '/%zz' }, code: 'RECO_ERR_BAD_URL' },
      { req: { method: 'POST', url: `/v1/models/${'x'.repeat(MAX_PARAM_LENGTH + 1)}/rollback` }, code: 'RECO_ERR_URI_TOO_LONG' },
      { req: { method: 'POST', url: '/v1/models/%00/rollback', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, code: 'RECO_ERR_VALIDATION', field: 'variant' },
      { req: { method: 'GET', url: `/${'a'.repeat(8000)}` }, code: 'RECO_ERR_NOT_FOUND' },
    ];
    for (const { req, code, field } of cases) {
      const full: FuzzRequest = { ...req, headers: { ...(req.payload === undefined ? {} : { 'content-type': 'application/json' }), ...req.headers } };
      const res = await send(full);
      checkAnswer(full, res);
      const what = `${req.method} ${req.url.slice(0, 80)}: ${res.body.slice(0, 300)}`;
      const body = res.json<{ code: string; issues?: { field: string; message: string }[] }>();
      expect(body.code, what).toBe(code);
      if (field !== undefined) expect(body.issues?.map((i) => i.field), what).toContain(field);
    }
    await expectHealthy();
  });

  it('random requests to every route never get a 5xx, only catalogue errors, and the service serves afterwards', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const res = await send(req);
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        checkAnswer(req, res);
      }),
      { numRuns: 1000 },
    );
    // The generators reach past validation into the handlers and into each kind of refusal.
    for (const status of [200, 202, 400, 404, 415]) expect(seen.get(status) ?? 0, `answers with ${status}: ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    await expectHealthy();
  }, 180_000);
});
