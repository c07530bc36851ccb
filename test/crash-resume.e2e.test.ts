import { readLatestSnapshots } from '@reco/updater';
import { silentLogger } from '@reco/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createE2eContext, produceClicks, until, type E2eContext } from './harness/e2e-context.js';
import { offsetSum } from './harness/snapshots.js';
import { startService, type ServiceProcess } from '../scripts/lib/service-process.js';

let ctx: E2eContext;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  ctx = await createE2eContext('crash');
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.kill()));
  await ctx?.close();
});

describe('updater crash and resume', () => {
  it('after kill -9 mid-stream and a restart, the final snapshot counts every click exactly once', async () => {
    const produce = (from: number, to: number): Promise<void> => produceClicks(ctx, from, to);
    const env = { ...ctx.env, RECO_VARIANTS: 'ladder', RECO_PUBLISH_INTERVAL_MS: '200', RECO_SESSION_TIMEOUT_MS: '6000' };
    const latest = async () => (await readLatestSnapshots(ctx.kafka, ctx.topics.adapters.name, silentLogger, ctx.resumeCheck)).get('ladder');

    const first = await startService('updater', env);
    running.push(first);
    await produce(0, 300);
    const midway = await until('a first snapshot', async () => {
      const s = await latest();
      return s && s.meta.examplesTrained > 0 ? s : undefined;
    }, 60_000, 250).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${first.output().slice(-3000)}`);
    });
    await produce(300, 600);
    await first.kill(); // no shutdown hook, no final publish: whatever it trained after its last snapshot is lost
    const beforeRestart = await latest();
    expect(beforeRestart?.meta.examplesTrained ?? 0).toBeLessThan(600);

    const second = await startService('updater', env);
    running.push(second);
    const final = await until('the restarted updater to catch up', async () => {
      const s = await latest();
      return s && s.meta.examplesTrained >= 600 ? s : undefined;
    }, 120_000, 250).catch(async (error: unknown) => {
      const s = await latest();
      throw new Error(`${String(error)}; latest snapshot: ${JSON.stringify(s?.meta)}\n${second.output().slice(-3000)}`);
    });
    expect(final.meta.examplesTrained).toBe(600);
    expect(final.meta.version).toBeGreaterThan(midway.meta.version);
    expect(offsetSum(final.meta.offsets)).toBe(600);
    // Let the restarted updater idle a moment: nothing may be trained twice afterwards either.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await latest())?.meta.examplesTrained).toBe(600);
    await second.stop();
  }, 240_000);
});
