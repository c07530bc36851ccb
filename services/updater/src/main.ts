import { readUpdaterConfig } from './config.js';
import { buildUpdaterRuntime, EXIT_STEPPED_DOWN } from './runtime.js';

// Wiring only: config once, the runtime (backend, backbone, Kafka, the engine and HTTP), listen;
// then start: as standby, the lease; once active, the fence, resume positions, trainers and loop.
const config = readUpdaterConfig(process.env);
// Stepped down (lease lost or fenced): exit at once, non-zero; the supervisor restarts it as standby.
const runtime = await buildUpdaterRuntime(config, { onStepDown: () => process.exit(EXIT_STEPPED_DOWN) });
await runtime.app.listen({ host: config.host, port: config.port });

// SIGTERM while waiting as standby: leave the lease group (no wait for the session) and go. Active:
// finish the step, publish, leave; past RECO_SHUTDOWN_TIMEOUT_MS or on a failure, exit 1.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    runtime.stop(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

await runtime.start();
