/**
 * The bare-HTTP ceiling of `npm run bench:serve -- --ceiling`: what Fastify on these cores answers
 * per second when a recommendation costs nothing. Same process layout as serving (node:cluster
 * with RECO_SERVING_WORKERS workers sharing the port, round-robin), same Fastify, logger off,
 * and GET and POST /v1/recommendations answering a fixed ten-item body shaped like serving's
 * answer, serialised through a response schema as serving's is. No model, history, validation,
 * Kafka or metrics: the gap between this and serving is what serving's own work costs.
 *
 * Started by startService (scripts/lib/service-process.ts), which sets PORT and HOST and polls
 * GET /readyz. Run alone: `PORT=8080 node --import tsx scripts/lib/ceiling-server.ts`.
 */
import cluster from 'node:cluster';
import Fastify from 'fastify';

// Scripts do not import the serving service; these mirror services/serving/src/config.ts
// (PORT default 8080, HOST default 127.0.0.1, RECO_SERVING_WORKERS an integer 1-64, default 1),
// so the ceiling runs on the worker count serving would in the same environment.
function workerCount(raw: string | undefined): number {
  const trimmed = raw?.trim();
  if (trimmed === undefined || trimmed === '') return 1;
  const n = Number(trimmed);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`RECO_SERVING_WORKERS must be an integer between 1 and 64, got "${trimmed}"`);
  return n;
}
const workers = workerCount(process.env.RECO_SERVING_WORKERS);
const port = Number(process.env.PORT ?? '8080');
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a TCP port number, got "${process.env.PORT}"`);
const host = process.env.HOST ?? '127.0.0.1';

if (workers > 1 && cluster.isPrimary) runPrimary(workers);
else await runWorker();

/** Like serving's cluster primary: fork, pass SIGTERM/SIGINT on, stop everything (exit 1) if a worker dies on its own. */
function runPrimary(count: number): void {
  let stopping = false;
  let exitCode = 0;
  const alive = new Set(Array.from({ length: count }, () => cluster.fork()));
  const stopAll = (code: number): void => {
    stopping = true;
    exitCode = code;
    for (const w of alive) w.process.kill('SIGTERM');
    setTimeout(() => {
      for (const w of alive) w.process.kill('SIGKILL');
      process.exit(1);
    }, 10_000).unref();
  };
  for (const worker of alive) {
    worker.on('exit', (code, signal) => {
      alive.delete(worker);
      if (!stopping) {
        process.stderr.write(`ceiling worker exited on its own (code ${code}, signal ${signal}); stopping the others\n`);
        stopAll(1);
      }
      if (alive.size === 0) process.exit(exitCode);
    });
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void (stopping || stopAll(0)));
}

async function runWorker(): Promise<void> {
  const answer = {
    userId: 'ceiling',
    variant: 'ladder',
    method: 'ladder',
    version: 0,
    backboneId: '0'.repeat(64),
    historyLength: 30,
    // Ids and full-precision scores of about the length serving's carry, so the bodies weigh about the same.
    items: Array.from({ length: 10 }, (_, i) => ({ itemId: `i${1000 + i * 137}`, score: 8.12345678901234 - i * 0.1234567 })),
  };
  // The fields of serving's recommendationsResponseSchema, so the answer is serialised the same way.
  const response = {
    200: {
      type: 'object',
      required: ['userId', 'variant', 'method', 'version', 'backboneId', 'historyLength', 'items'],
      additionalProperties: false,
      properties: {
        userId: { type: 'string' },
        variant: { type: 'string' },
        method: { type: 'string' },
        version: { type: 'integer' },
        backboneId: { type: 'string' },
        fallback: { type: 'string', enum: ['popularity'] },
        historyLength: { type: 'integer' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['itemId', 'score'],
            additionalProperties: false,
            properties: { itemId: { type: 'string' }, score: { type: 'number' }, title: { type: 'string' }, categories: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    },
  } as const;
  const app = Fastify({ logger: false });
  app.get('/readyz', async () => ({ status: 'ready', reasons: [] }));
  app.get('/v1/recommendations', { schema: { response } }, async () => answer);
  // The body is parsed (Fastify's JSON parser), as serving parses it, and then ignored.
  app.post('/v1/recommendations', { schema: { response } }, async () => answer);
  await app.listen({ host, port });

  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
