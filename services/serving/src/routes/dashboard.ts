import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { FigureSeries, TrafficSeries } from '../dashboard-series.js';
import type { HistoryStore } from '../history-store.js';
import { dashboardResponseSchema, type DashboardResponse } from '../schemas/dashboard.js';

/** The page's files: beside src/ and dist/ alike, so the same URL resolves from source and build. */
const ASSETS_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

export interface DashboardRoutesOptions {
  /** How often the series read the registry and the counters; the page polls about as often. */
  sampleEveryMs?: number;
  /** The histories this replica keeps: the explorer offers their most recent users to pick from. */
  history?: HistoryStore;
}

/** How many recently active users the explorer offers. */
const EXPLORER_USERS = 20;

function sumByVariant(values: ReadonlyArray<{ labels: Record<string, string | number | undefined>; value: number }>): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { labels, value } of values) {
    const variant = String(labels.variant ?? '');
    sums.set(variant, (sums.get(variant) ?? 0) + value);
  }
  return sums;
}

/**
 * The dashboard: the page at `/` (its assets under `/dashboard/`, all served from this package,
 * nothing from a CDN) and `GET /v1/dashboard`, the JSON it polls. Encapsulated (not fastify-plugin):
 * @fastify/static decorates `reply.sendFile` here only, beside the copy Swagger UI registers for itself.
 * This replica's view: behind a load balancer, or as one worker of several, each shows its own traffic.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardRoutesOptions> = async (app, options) => {
  const { models, metrics } = app;
  const figures = new FigureSeries();
  const traffic = new TrafficSeries(metrics);
  const sample = async (): Promise<void> => {
    figures.sample(models);
    await traffic.sample();
  };
  await sample();
  const timer = setInterval(() => {
    sample().catch((error: unknown) => app.log.warn({ err: error }, 'dashboard sampling failed'));
  }, options.sampleEveryMs ?? 1000);
  // Sampling alone must never keep a process alive that is otherwise done.
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));

  await app.register(fastifyStatic, { root: ASSETS_DIR, prefix: '/dashboard/', index: false, wildcard: false });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html'));

  app.get(
    '/v1/dashboard',
    { schema: { summary: "What the dashboard at / shows: live variants, their prequential figures over time, and this replica's traffic", response: { 200: dashboardResponseSchema } } },
    async (): Promise<DashboardResponse> => {
      // A swap or rollback since the last tick shows at once, not a second later.
      figures.sample(models);
      const [applied, refused] = await Promise.all([metrics.snapshotsApplied.get(), metrics.snapshotsRefused.get()]);
      const appliedBy = sumByVariant(applied.values);
      const refusedBy = sumByVariant(refused.values);
      return {
        now: Date.now(),
        variants: models.variants().flatMap((variant) => {
          const meta = models.current(variant)?.meta;
          if (meta === undefined) return [];
          return [
            {
              variant,
              method: meta.method,
              version: meta.version,
              backboneId: meta.backboneId,
              examplesTrained: meta.examplesTrained,
              freshnessMs: meta.newestEventTs === null ? null : Math.max(0, meta.appliedAt - meta.newestEventTs),
              appliedAt: meta.appliedAt,
              previousVersion: models.previous(variant)?.meta.version ?? null,
              snapshotsApplied: appliedBy.get(variant) ?? 0,
              snapshotsRefused: refusedBy.get(variant) ?? 0,
              series: figures.points(variant),
            },
          ];
        }),
        traffic: { series: traffic.points() },
        users: options.history?.recentUsers(EXPLORER_USERS) ?? [],
      };
    },
  );
};
