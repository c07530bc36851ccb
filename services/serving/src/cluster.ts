import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '@reco/stream';

const METRICS_REQUEST = 'reco:cluster-metrics-request';
const METRICS_RESPONSE = 'reco:cluster-metrics-response';

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

const isMessage = <T extends { type: string }>(message: unknown, type: T['type']): message is T =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;

/**
 * The primary of a multi-process serving replica (RECO_SERVING_WORKERS > 1): it forks the
 * workers, which share the listening port (Node's cluster hands connections round-robin), and
 * does nothing else on the request path. Each worker is a complete replica of its own (backbone,
 * engine, history and snapshot consumers, hot-swap registry), so no state crosses processes.
 *
 * `/metrics` must still describe the whole replica, whichever worker answers the scrape: the
 * worker asks the primary, which gathers every worker's registry with prom-client's
 * AggregatorRegistry (counters and histograms summed) and answers over IPC.
 *
 * A worker that dies on its own takes the replica down (exit 1) rather than being restarted
 * behind the orchestrator's back. SIGTERM/SIGINT are passed to every worker, each shuts down
 * gracefully, and the primary exits 0 once all have.
 */
export function runClusterPrimary(workers: number, logger: Logger, options: { stopTimeoutMs?: number } = {}): void {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  const alive = new Set<Worker>();

  const stopAll = (code: number): void => {
    stopping = true;
    for (const w of alive) w.process.kill('SIGTERM');
    const deadline = setTimeout(() => {
      for (const w of alive) w.process.kill('SIGKILL');
      process.exit(code === 0 ? 1 : code);
    }, options.stopTimeoutMs ?? 30_000);
    const check = setInterval(() => {
      if (alive.size > 0) return;
      clearInterval(check);
      clearTimeout(deadline);
      process.exit(code);
    }, 50);
  };

  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    alive.add(worker);
    worker.on('message', (message: unknown) => {
      if (!isMessage<MetricsRequest>(message, METRICS_REQUEST)) return;
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text } satisfies MetricsResponse),
        (error: unknown) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: String(error) } satisfies MetricsResponse),
      );
    });
    worker.on('exit', (code, signal) => {
      alive.delete(worker);
      if (stopping) return;
      logger.error({ worker: worker.id, code, signal }, 'serving worker exited on its own; stopping the replica');
      stopAll(1);
    });
  }
  logger.info({ workers }, 'serving primary forked its workers');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      logger.info({ signal }, 'stopping serving workers');
      stopAll(0);
    });
  }
}

/**
 * In a cluster worker: puts this worker's registry into the replica-wide aggregate and returns
 * how to read that aggregate (through the primary). Undefined outside a cluster.
 */
export function clusterMetricsText(registry: Registry, timeoutMs = 5000): (() => Promise<string>) | undefined {
  if (!cluster.isWorker) return undefined;
  // The constructor installs the worker's answer to the primary's GET_METRICS requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsResponse>(message, METRICS_RESPONSE)) return;
    const waiting = pending.get(message.id);
    if (waiting === undefined) return;
    pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.text !== undefined) waiting.resolve(message.text);
    else waiting.reject(new Error(`cluster metrics: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`cluster metrics: the primary did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}
