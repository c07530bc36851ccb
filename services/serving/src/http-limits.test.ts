import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import type { HttpTimeouts } from './config.js';
import { SERVING_ERRORS } from './errors.js';
import { HistoryStore } from './history-store.js';
import { frozenModel } from './initial-model.js';
import { LiveModels } from './live-models.js';
import { ItemCoVisits } from './model-api.js';
import { ServingMetrics } from './metrics.js';
import { PopularityCounter } from './popularity.js';
import { startHarness, type Harness } from './testing/harness.js';
import { tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

// What app.inject() cannot show: Node's HTTP parser and timers, on a listening socket. Every
// answer Node or Fastify gives before a route runs is still a catalogue body, a stalled client is
// cut off close to RECO_HTTP_REQUEST_TIMEOUT_MS, and the server keeps serving.

const REQUEST_TIMEOUT_MS = 600;
const TIMEOUTS: HttpTimeouts = { requestTimeoutMs: REQUEST_TIMEOUT_MS, connectionTimeoutMs: 5000 };

let backbone: TinyBackbone;
let h: Harness;
let app: FastifyInstance;
let port: number;

/** A second app on the harness's broker and topics, with short timeouts, listening on a free port. */
async function listeningApp(): Promise<{ app: FastifyInstance; port: number }> {
  const producer = h.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const { backbone: model, itemIds, backboneId } = backbone.checkpoint;
  const models = new LiveModels();
  models.swap(frozenModel(model, itemIds, backboneId, { fast: h.engine.fast }));
  const built = await buildApp({
    models,
    history: new HistoryStore({ maxLength: 20, maxUsers: 100 }),
    coVisits: new ItemCoVisits(),
    popularity: new PopularityCounter({ halfLifeMs: 3_600_000 }),
    producer,
    topics: h.topics,
    metrics: new ServingMetrics({ defaultMetrics: false }),
    policy: { defaultVariant: undefined, split: [{ variant: 'frozen', weight: 1 }] },
    http: TIMEOUTS,
  });
  await built.listen({ host: '127.0.0.1', port: 0 });
  const address = built.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { app: built, port: address.port };
}

beforeAll(async () => {
  backbone = await tinyBackbone();
  h = await startHarness(backbone);
  ({ app, port } = await listeningApp());
});

afterAll(async () => {
  await app?.close();
  await h?.close();
  backbone?.checkpoint.backbone.dispose();
});

interface Exchange {
  /** Everything the server sent before it closed the connection. */
  text: string;
  /** From connecting to the server closing the connection. */
  closedAfterMs: number;
}

/** Opens a socket, lets `talk` write to it, and collects the answer until the server closes it. */
function exchange(to: number, talk: (socket: Socket) => void | Promise<void>, giveUpMs = 10_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port: to });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server did not close the connection within ${giveUpMs} ms; got so far: ${text.slice(0, 300)}`));
    }, giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => void Promise.resolve(talk(socket)).catch(reject));
  });
}

/** Every HTTP response in `text` (pipelined ones included), with its JSON body. */
function responses(text: string): { status: number; body: { code: string; message: string } }[] {
  const found: { status: number; body: { code: string; message: string } }[] = [];
  let rest = text;
  for (;;) {
    const head = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(rest);
    if (head === null) return found;
    const length = Number(/content-length: (\d+)/i.exec(head[2] ?? '')?.[1] ?? 0);
    const start = head[0].length;
    found.push({ status: Number(head[1]), body: JSON.parse(rest.slice(start, start + length)) as { code: string; message: string } });
    rest = rest.slice(start + length);
  }
}

function expectCatalogue(answer: { status: number; body: { code: string } } | undefined, code: keyof typeof SERVING_ERRORS): void {
  expect(answer?.body.code).toBe(code);
  expect(answer?.status).toBe(SERVING_ERRORS[code].status);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HTTP limits on a listening server', () => {
  it('headers over 16 KiB, and a URL over 16 KiB, are a 431 inside the catalogue', async () => {
    const bigHeader = await exchange(port, (s) => void s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expectCatalogue(responses(bigHeader.text)[0], 'RECO_ERR_HEADERS_TOO_LARGE');
    const longUrl = await exchange(port, (s) => void s.write(`GET /v1/recommendations?userId=${'u'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expectCatalogue(responses(longUrl.text)[0], 'RECO_ERR_HEADERS_TOO_LARGE');
  });

  it('bytes that are not HTTP are a 400 inside the catalogue', async () => {
    for (const garbage of ['HELLO WORLD\r\n\r\n', 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n']) {
      const answer = await exchange(port, (s) => void s.write(garbage));
      expectCatalogue(responses(answer.text)[0], 'RECO_ERR_MALFORMED_REQUEST');
    }
  });

  it('a body that stalls, or trickles, is cut off with a 408 close to the request timeout', async () => {
    const head = 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const stalled = await exchange(port, (s) => void s.write(`${head}{"userId":`));
    expectCatalogue(responses(stalled.text)[0], 'RECO_ERR_REQUEST_TIMEOUT');
    // The check runs every requestTimeout/4 here (at most once a second in production).
    expect(stalled.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(stalled.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);

    // One byte every 100 ms keeps the socket from ever being idle; the request timeout still ends it.
    const trickled = await exchange(port, async (s) => {
      s.write(head);
      for (let i = 0; i < 100 && !s.destroyed; i += 1) {
        s.write(' ');
        await sleep(100);
      }
    });
    expectCatalogue(responses(trickled.text)[0], 'RECO_ERR_REQUEST_TIMEOUT');
    expect(trickled.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);

    // Headers that never finish are the same case.
    const slowHeaders = await exchange(port, (s) => void s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
    expectCatalogue(responses(slowHeaders.text)[0], 'RECO_ERR_REQUEST_TIMEOUT');
    expect(slowHeaders.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
  });

  it('still serves after all of that', async () => {
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const res = await fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'limits', itemId: 'item-1', type: 'click', ts: Date.now() }) });
    expect(res.status).toBe(202);
  });

  it('while closing, a request that arrives on an open connection gets a catalogue 503; the one in flight finishes', async () => {
    const closing = await listeningApp();
    const event = JSON.stringify({ userId: 'closing', itemId: 'item-1', type: 'click', ts: Date.now() });
    let closed: Promise<void> | undefined;
    const answer = await exchange(closing.port, async (s) => {
      // The first request is in flight (half its body sent) when close() starts.
      s.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${event.length}\r\n\r\n${event.slice(0, 10)}`);
      await sleep(100);
      closed = closing.app.close();
      await sleep(100);
      s.write(`${event.slice(10)}GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    await closed;
    const [first, second] = responses(answer.text);
    expect(first?.status).toBe(202);
    expectCatalogue(second, 'RECO_ERR_SHUTTING_DOWN');
  });
});
