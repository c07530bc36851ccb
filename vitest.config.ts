import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// One Vitest process for the whole repo, so the Kafka broker that the integration tests need is
// started once per run (see vitest.kafka-setup.ts), not once per package.
// Workspace packages resolve to their TypeScript sources through the `@reco/source` export
// condition, so tests never run against a stale dist/ build.
// Inline projects do not inherit the root's `ssr` options, so each project repeats them.
const sourceConditions = ['@reco/source', ...defaultServerConditions];
const resolveToSource = { resolve: { conditions: sourceConditions }, ssr: { resolve: { conditions: sourceConditions } } };
const repoRoot = new URL('.', import.meta.url).pathname;
const kafkaSetup = `${repoRoot}vitest.kafka-setup.ts`;

function project(name: string, root: string, needsKafka: boolean) {
  return {
    extends: true as const,
    ...resolveToSource,
    test: {
      name,
      root: `${repoRoot}${root}`,
      include: ['src/**/*.test.ts', '*.test.ts'],
      globalSetup: needsKafka ? [kafkaSetup] : [],
    },
  };
}

export default defineConfig({
  ...resolveToSource,
  test: {
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // 2-core machine: more workers only fight over the CPU that TF.js and the broker need.
    maxWorkers: 2,
    projects: [
      project('@reco/stream', 'shared/stream', true),
      project('@reco/data', 'shared/data', false),
      project('@reco/report', 'shared/report', false),
      project('@reco/model', 'shared/model', false),
      project('@reco/serving', 'services/serving', true),
      project('@reco/updater', 'services/updater', true),
      project('e2e', 'test', true),
    ],
  },
});
