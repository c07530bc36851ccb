import { buildApp } from './app.js';
import { readUpdaterConfig } from './config.js';

// Wiring only: read config once, build the app, listen, and close cleanly on SIGINT/SIGTERM.
const config = readUpdaterConfig(process.env);
const app = await buildApp({ logger: { level: config.logLevel } });
await app.listen({ host: config.host, port: config.port });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down');
    void app.close().then(() => process.exit(0));
  });
}
