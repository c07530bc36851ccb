import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs one measurement in a child process of the same script and returns the JSON it prints
 * as its last stdout line. Why a child per method: peak RSS is a per-process high-water mark,
 * and TF.js/WASM memory, once grown, is never returned to the OS, so measuring methods one
 * after another in one process would charge every method with the largest one before it.
 * The child inherits node's flags (--conditions, --import tsx), so it runs the same sources.
 */
export async function runChild<T>(scriptUrl: string, args: string[]): Promise<T> {
  const script = fileURLToPath(scriptUrl);
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with code ${String(code)}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

/** This process's peak resident set size in MB (the kernel's high-water mark). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** `run` over `items`, at most `limit` at once, results in the items' order. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
