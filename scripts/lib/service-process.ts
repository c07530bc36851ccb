import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@reco/stream/testing';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface ServiceProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** What the process printed (only when started with `output: 'capture'`). */
  output(): string;
  /** SIGTERM and wait (graceful shutdown), SIGKILL after the timeout. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** kill -9: no shutdown hooks, no final publish. */
  kill(): Promise<void>;
}

export interface StartServiceOptions {
  /** Listen port; a free one by default. */
  port?: number;
  /** `inherit` prints to this terminal (npm start); `capture` keeps it for failure messages (tests). */
  output?: 'inherit' | 'capture';
  readyTimeoutMs?: number;
  /** Called if the process exits on its own (not through stop/kill); `signal` names a kill such as SIGKILL. */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /**
   * Gives up a start still waiting for readiness: the process is stopped (SIGTERM, SIGKILL after
   * 5 s) and the start rejects. A launcher stopping during a restart must not leave that child behind.
   */
  abort?: AbortSignal;
}

/** A service of this repo by name (`services/<name>/src/main.ts`), or any script that listens on PORT and answers `/readyz`. */
export type ServiceTarget = 'serving' | 'updater' | { name: string; /** Relative to the repo root. */ script: string };

/**
 * Starts a service (or a script serving HTTP the same way, such as bench:serve's ceiling server)
 * as its own Node process, from its TypeScript sources through the workspace condition (as
 * `npm start` and the end-to-end tests both run it), with PORT and HOST set, and waits until
 * `/readyz` answers 200.
 */
export async function startService(target: ServiceTarget, env: Record<string, string | undefined>, options: StartServiceOptions = {}): Promise<ServiceProcess> {
  const { name, script } = typeof target === 'string' ? { name: target, script: `services/${target}/src/main.ts` } : target;
  const port = options.port ?? (await freePort());
  const capture = (options.output ?? 'capture') === 'capture';
  const child: ChildProcess = spawn(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...process.env, HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let stopping = false;
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code;
      if (!stopping) options.onUnexpectedExit?.(code, signal);
      resolve(code);
    }),
  );
  const stopChild = async (timeoutMs: number): Promise<number | null> => {
    stopping = true;
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const url = `http://127.0.0.1:${port}`;
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (options.abort?.aborted) {
      await stopChild(5000);
      throw new Error(`${name} start abandoned before it was ready`);
    }
    if (exitCode !== undefined) throw new Error(`${name} exited with ${exitCode} before it was ready:\n${output.slice(-4000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready after ${timeoutMs} ms:\n${output.slice(-4000)}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name,
    url,
    pid: child.pid ?? -1,
    output: () => output,
    stop: (stopTimeoutMs = 30_000) => stopChild(stopTimeoutMs),
    kill: async () => {
      stopping = true;
      if (exitCode !== undefined) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
