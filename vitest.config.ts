import { defineConfig } from 'vitest/config';

// One Vitest process for the whole repo, so the Kafka broker that the integration tests need is
// started once per run (see vitest.kafka-setup.ts), not once per package.
// Workspace packages resolve to their TypeScript sources through the `@reco/source` export
// condition, so tests never run against a stale dist/ build.
const sourceConditions = ['@reco/source', 'node', 'import', 'module', 'default'];
const kafkaSetup = new URL('./vitest.kafka-setup.ts', import.meta.url).pathname;

function project(name: string, root: string, needsKafka: boolean) {
  return {
    extends: true as const,
    test: {
      name,
      root,
      include: ['src/**/*.test.ts', '*.test.ts'],
      globalSetup: needsKafka ? [kafkaSetup] : [],
    },
  };
}

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@reco/source'] } },
  test: {
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // 2-core machine: more workers only fight over the CPU that TF.js and the broker need.
    maxWorkers: 2,
    projects: [
      project('@reco/stream', 'shared/stream', true),
      project('@reco/data', 'shared/data', false),
      project('@reco/model', 'shared/model', false),
      project('@reco/serving', 'services/serving', true),
      project('@reco/updater', 'services/updater', true),
      project('e2e', 'test', true),
    ],
  },
});
