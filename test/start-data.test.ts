import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '@reco/data';
import { describe, expect, it } from 'vitest';
import { PRETRAIN_FRACTION, replayOf } from '../scripts/traffic-simulator.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const MOVIELENS = join(repoRoot, '..', 'shared', 'data', 'movielens-latest-small');

function runStart(args: string[]): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', 'scripts/start.ts', ...args], { cwd: repoRoot, env: { ...process.env, KAFKA_BROKERS: '' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => done({ code, output, ms: Date.now() - started }));
  });
}

describe('npm start --data', () => {
  it('a data folder without ratings.csv stops at once, saying where it looked, before any broker starts', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'reco-start-data-'));
    try {
      const missing = join(cacheDir, 'no-such-data');
      const { code, output } = await runStart(['--data', missing, '--cache-dir', cacheDir]);
      expect(code).toBe(2);
      expect(output).toContain(`no ratings.csv in ${missing}`);
      expect(output).toContain('nothing was started');
      expect(output).not.toMatch(/broker/i);
      expect(existsSync(join(cacheDir, 'kafka'))).toBe(false);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(!existsSync(join(MOVIELENS, 'ratings.csv')))('the simulator replays MovieLens after the pretraining split, in time order', async () => {
    const all = (await loadDataset(MOVIELENS)).interactions;
    const { name, stream } = await replayOf(MOVIELENS);
    expect(name).toBe('movielens-latest-small/ratings.csv');
    expect(stream.length / all.length).toBeCloseTo(1 - PRETRAIN_FRACTION, 2);
    for (let i = 1; i < stream.length; i++) expect(stream[i]!.ts).toBeGreaterThanOrEqual(stream[i - 1]!.ts);
    // Nothing replayed is older than what the backbone was pretrained on.
    const key = (e: { userId: string; itemId: string; ts: number }): string => `${e.userId}|${e.itemId}|${e.ts}`;
    const replayed = new Set(stream.map(key));
    expect(replayed.size).toBe(stream.length);
    const pretrained = all.filter((e) => !replayed.has(key(e)));
    expect(pretrained.length + stream.length).toBe(all.length);
    const newestPretrained = pretrained.reduce((newest, e) => Math.max(newest, e.ts), Number.NEGATIVE_INFINITY);
    expect(stream[0]!.ts).toBeGreaterThan(newestPretrained);
  }, 60_000);
});
