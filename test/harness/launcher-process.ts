import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** `npm start` (scripts/start.ts) running as a real process, as a person starts it in a terminal. */
export interface LauncherProcess {
  readonly pid: number;
  /** Everything it and its children printed so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output (from `from` on), or fails with the output tail. */
  waitFor(pattern: RegExp, timeoutMs: number, from?: number): Promise<RegExpMatchArray>;
  /** Resolves when the launcher has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** A terminal's Ctrl-C: SIGINT to the whole process group (the launcher and both services). */
  ctrlC(): void;
  /** SIGKILL to the launcher's process group and to the broker it left: for cleanup after a failure. */
  killAll(): void;
}

/**
 * Starts the launcher in a process group of its own (as a terminal would), so a test can press
 * Ctrl-C on the whole group and kill the whole group afterwards. The broker runs in a group of
 * its own too: `killAll` finds it through the record the launcher keeps in its cache folder.
 */
export function startLauncher(options: { cacheDir: string; args: string[]; env: Record<string, string | undefined> }): LauncherProcess {
  const child: ChildProcess = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', 'scripts/start.ts', '--cache-dir', options.cacheDir, ...options.args], {
    cwd: repoRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer): void => void (output += chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const pid = child.pid ?? -1;
  return {
    pid,
    output: () => output,
    exited,
    waitFor: async (pattern, timeoutMs, from = 0) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = output.slice(from).match(pattern);
        if (match) return match;
        if (done || Date.now() > deadline) {
          throw new Error(`${done ? 'the launcher exited' : `timed out after ${timeoutMs} ms`} waiting for ${String(pattern)}; its output ends:\n${output.slice(-6000)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    ctrlC: () => process.kill(-pid, 'SIGINT'),
    killAll: () => {
      if (!done) signalGroup(pid, 'SIGKILL');
      const broker = recordedBrokerPid(options.cacheDir);
      if (broker !== undefined) signalProcess(broker, 'SIGKILL');
    },
  };
}

/**
 * Lines of launcher output logged at error or fatal level, in either format createLogger writes:
 * pino-pretty's `ERROR:` / `FATAL:` after the time, or a JSON line with pino's level 50 or 60.
 */
export function errorLevelLines(output: string): string[] {
  return output.split('\n').filter((line) => /^\[[\d:.]+\] (ERROR|FATAL):/.test(line) || /"level":\s*(50|60)\b/.test(line));
}

/** The broker pid the launcher recorded for this cache folder, if that process is still a broker on it. */
export function recordedBrokerPid(cacheDir: string): number | undefined {
  try {
    const record = JSON.parse(readFileSync(join(cacheDir, 'kafka', 'local-kafka.json'), 'utf8')) as { brokerPid?: number };
    const pid = record.brokerPid;
    return pid !== undefined && brokerPidsUsing(cacheDir).includes(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Kafka broker processes whose command line names this cache folder (other tests run brokers of their own). */
export function brokerPidsUsing(cacheDir: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `kafka\\.Kafka ${join(cacheDir, 'kafka')}`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

export 
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  signalProcess(-pid, signal);
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}
