import type { TestProject } from 'vitest/node';
import type {} from './shared/stream/src/testing/kafka-test-context.js'; // declares the provided 'kafkaBrokers'
// Relative imports: Vite resolves this file outside any project, where export conditions do not apply.
import { createLogger } from './shared/stream/src/logger.js';
import { startTestBroker, type TestBroker } from './shared/stream/src/testing/test-broker.js';

// Several projects list this file; they must share one broker. Vitest may load this module once
// per project, so the shared state lives on globalThis, with a count of projects still using it.
interface SharedBroker {
  broker: Promise<TestBroker>;
  users: number;
}
const key = Symbol.for('reco.vitest.kafka');
const holder = globalThis as { [key]?: SharedBroker };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!holder[key]) {
    const started = Date.now();
    const broker = startTestBroker({ env: process.env, logger: createLogger({ name: 'test-broker', level: 'warn', destination: 'stderr' }), cacheDir: process.env.RECO_CACHE_DIR });
    holder[key] = { broker, users: 0 };
    void broker.then((b) => console.log(`[kafka] ${b.kind} broker at ${b.brokers.join(',')} ready in ${Date.now() - started} ms`));
  }
  const shared = holder[key];
  shared.users += 1;
  const broker = await shared.broker;
  project.provide('kafkaBrokers', broker.brokers);
  return async () => {
    shared.users -= 1;
    if (shared.users === 0) {
      delete holder[key];
      await broker.stop();
    }
  };
}
