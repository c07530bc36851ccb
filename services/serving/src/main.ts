import { readServingConfig } from './config.js';
import { startServingRuntime } from './runtime.js';

// Wiring only: read config once, start everything, listen; on SIGINT/SIGTERM stop the consumers,
// close the app (in-flight requests finish, producer disconnects, models are freed), exit.
const config = readServingConfig(process.env);
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
