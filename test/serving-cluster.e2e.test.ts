import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';
import { createE2eContext, until, type E2eContext } from './harness/e2e-context.js';
import { ladderSnapshot } from './harness/snapshots.js';

let ctx: E2eContext;
let serving: ServiceProcess | undefined;

beforeAll(async () => {
  ctx = await createE2eContext('cluster');
});

afterAll(async () => {
  await serving?.stop();
  await ctx?.close();
});

/** Pids of the serving workers whose parent is `pid` (not tsx's esbuild helper). */
function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'services/serving/src/main.ts'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function metric(url: string, pattern: RegExp): Promise<number> {
  return Number(pattern.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? Number.NaN);
}

describe('serving with RECO_SERVING_WORKERS=2', () => {
  it('two workers share the port, each applies snapshots, /metrics adds both up, and SIGTERM stops them all', async () => {
    const started = await startService('serving', { ...ctx.env, RECO_SERVING_WORKERS: '2', RECO_DEFAULT_VARIANT: 'ladder' });
    serving = started;
    expect(children(started.pid)).toHaveLength(2);

    // Every worker is a full replica: each swaps in the snapshot, so the replica-wide sum is 2.
    await ctx.publishSnapshot(await ladderSnapshot(ctx.fixture.checkpoint, 1, 0.01));
    await until('both workers applied v1', async () => ((await metric(started.url, /^reco_snapshots_applied_total\{variant="ladder"\} (\d+)$/m)) === 2 ? true : undefined));
    expect(await metric(started.url, /^reco_backbone_engine_info\{engine="onnx"\} (\d+)$/m)).toBe(2);

    const history = ctx.fixture.world.pretrainLog.slice(0, 5).map((e) => e.itemId);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${started.url}/v1/recommendations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'c1', k: 5, history }) }).then(
          async (r) => ({ status: r.status, body: (await r.json()) as { version: number; items: { itemId: string }[] } }),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(new Set(answers.map((a) => a.body.version))).toEqual(new Set([1]));
    expect(new Set(answers.map((a) => a.body.items.map((i) => i.itemId).join()))).toHaveLength(1);
    expect(await metric(started.url, /^reco_recommendations_total\{variant="ladder",fallback="none"\} (\d+)$/m)).toBe(40);

    const workers = children(started.pid);
    expect(await started.stop()).toBe(0);
    serving = undefined;
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 120_000);
});
