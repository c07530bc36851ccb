import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const KEY_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The snapshot signing key of one cache folder: 32 random bytes, hex, created on first use with
 * mode 0600 and read back on every later start, so snapshots the broker kept from an earlier run
 * still verify. Both services get the same key; it never leaves this machine.
 */
export async function ensureSnapshotKey(file: string, say: (message: string) => void): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  const key = randomBytes(32).toString('hex');
  try {
    // 'wx': two launchers racing on a new cache folder end up with one key, not two.
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    say(`created a snapshot signing key in ${file} (mode 0600; keep it with the broker data)`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const existing = (await readFile(file, 'utf8')).trim();
  if (!KEY_PATTERN.test(existing)) throw new Error(`${file} does not hold a snapshot key (64 hex characters); delete it to have a new one made`);
  if (((await stat(file)).mode & 0o077) !== 0) say(`warning: ${file} is readable by other users; chmod 600 it`);
  return existing;
}

/**
 * The snapshot key settings for services a script spawns for one run (benchmarks): whatever the
 * caller's environment already says (a key, or RECO_SNAPSHOT_INSECURE), else a fresh random key
 * for this run only. Pass the result to every service of the run, so they verify each other.
 */
export function runSnapshotKeyEnv(env: NodeJS.ProcessEnv): { RECO_SNAPSHOT_KEY?: string } {
  if (env.RECO_SNAPSHOT_KEY?.trim() || env.RECO_SNAPSHOT_INSECURE?.trim()) return {};
  return { RECO_SNAPSHOT_KEY: randomBytes(32).toString('hex') };
}

/** The key in force for a run (the caller's or the one runSnapshotKeyEnv made), as the services read it. */
export function runSnapshotKey(env: NodeJS.ProcessEnv, made: { RECO_SNAPSHOT_KEY?: string }): string | undefined {
  return made.RECO_SNAPSHOT_KEY ?? (env.RECO_SNAPSHOT_KEY?.trim() || undefined);
}
