import cluster from 'node:cluster';
import { createLogger } from '@reco/stream';
import { runClusterPrimary } from './cluster.js';
import { readServingConfig } from './config.js';
import { startServingRuntime } from './runtime.js';

// Wiring only: read config once, start everything, listen; on SIGINT/SIGTERM stop the consumers,
// close the app (in-flight requests finish, producer disconnects, models are freed), exit.
// With RECO_SERVING_WORKERS > 1 this process only forks that many workers, each running the rest.
const config = readServingConfig(process.env);
if (config.workers > 1 && cluster.isPrimary) {
  runClusterPrimary(config.workers, createLogger({ name: 'serving', ...config.log }));
} else {
  const runtime = await startServingRuntime(config);
  await runtime.app.listen({ host: config.host, port: config.port });

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      runtime.app.log.info({ signal }, 'shutting down');
      runtime.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          runtime.app.log.error({ err: error }, 'unclean shutdown');
          process.exit(1);
        },
      );
    });
  }
}
