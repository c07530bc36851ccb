import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafkaBrokers, uniqueName } from '@reco/stream/testing';
import { readServingConfig } from './config.js';
import { startServingRuntime } from './runtime.js';
import { TEST_SNAPSHOT_KEY, until } from './testing/harness.js';
import { tinyBackbone, type TinyBackbone } from './testing/tiny-backbone.js';

let backbone: TinyBackbone;

beforeAll(async () => {
  backbone = await tinyBackbone();
});

afterAll(() => backbone?.checkpoint.backbone.dispose());

function env(): Record<string, string> {
  return {
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    RECO_BACKBONE_DIR: backbone.dir,
    RECO_TOPIC_PREFIX: `${uniqueName('runtime')}.`,
    RECO_ADMIN_TOKEN: 'runtime-token',
    RECO_SNAPSHOT_KEY: TEST_SNAPSHOT_KEY,
    PORT: '0',
    LOG_LEVEL: 'info',
  };
}

describe('serving runtime (what main.ts runs)', () => {
  it('loads the checkpoint, ensures topics, starts both consumers, becomes ready, answers over real HTTP and stops cleanly', async () => {
    const runtime = await startServingRuntime(readServingConfig(env()), { logger: false });
    try {
      expect(runtime.backboneId).toBe(backbone.checkpoint.backboneId);
      const address = await runtime.app.listen({ host: '127.0.0.1', port: 0 });
      await runtime.snapshots.whenCaughtUp;
      const ready = await fetch(`${address}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', reasons: [] });
      const res = await fetch(`${address}/v1/recommendations?userId=someone&k=3`);
      expect(res.status).toBe(200);
      // No snapshot yet: the configured variant answers at version 0 (its identity initialisation).
      expect(await res.json()).toMatchObject({ variant: 'ladder', method: 'ladder', version: 0, fallback: 'popularity' });
      const ask = async (variant: string): Promise<{ version: number; items: { itemId: string; score: number }[] }> => {
        const r = await fetch(`${address}/v1/recommendations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'someone', variant, history: ['item-1', 'item-2'] }) });
        return (await r.json()) as { version: number; items: { itemId: string; score: number }[] };
      };
      const [ladder, frozen] = [await ask('ladder'), await ask('frozen')];
      expect(ladder.items.map((i) => i.itemId)).toEqual(frozen.items.map((i) => i.itemId));
      ladder.items.forEach((item, i) => expect(item.score).toBeCloseTo(frozen.items[i]!.score, 5));
      const metrics = await (await fetch(`${address}/metrics`)).text();
      expect(metrics).toMatch(/^process_cpu_seconds_total /m);
      expect(metrics).toMatch(/^reco_snapshots_caught_up 1$/m);
      // Every consumer (history, snapshots, items) reports through the seam.
      expect(metrics.match(/^reco_consumer_up\{service="serving",topic="t-runtime-[^"]+"\} 1$/gm)).toHaveLength(3);
    } finally {
      await runtime.stop();
    }
  });

  it('main.ts listens, and exits 0 on SIGTERM', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', 'src/main.ts'], { cwd, env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const address = await until(() => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 60_000, () => `main.ts to listen; output so far:\n${output}`);
      const ready = await until(async () => ((await fetch(`${address}/readyz`)).status === 200 ? true : undefined), 20_000, 'readiness');
      expect(ready).toBe(true);
      expect(output).toMatch(/TF\.js backend: (wasm|cpu|tensorflow)/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toMatch(/shutting down/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
