import type { ServiceProcess, StartServiceOptions } from './service-process.js';

/** How a supervised service is restarted: 1 s, 2 s, 4 s ... up to `maxMs`, back to 1 s once it has stayed up. */
export interface RestartPolicy {
  initialMs: number;
  maxMs: number;
  /** A service that ran this long before dying is treated as healthy again: the next delay starts over. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({ initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 });

/** The wait before restart number `attempt` (1-based) of a run of failures. */
export function restartDelayMs(attempt: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
}

/** Starts one process of the service; the supervisor fills in the options it owns (exit hook, abort). */
export type ServiceStarter = (options: Pick<StartServiceOptions, 'onUnexpectedExit' | 'abort'>) => Promise<ServiceProcess>;

/**
 * Keeps one service process running for `npm start`: a process that exits without being asked to
 * (a crash, an OOM kill, a kill -9) is started again after a capped, growing delay, while
 * everything else keeps running. The first start is not retried: a service that cannot start at
 * all (a bad flag, a missing backbone) is a mistake to report, not an outage to ride out.
 */
export class ServiceSupervisor {
  private process: ServiceProcess | undefined;
  private stopping = false;
  private failures = 0;
  private upSince = 0;
  private restarts = 0;
  private pendingRestart: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private attempt: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly starter: ServiceStarter,
    private readonly say: (message: string) => void,
    private readonly options: {
      policy?: RestartPolicy;
      /** Said once per crash, after the restart line: what a person may otherwise mistake for a hang. */
      restartNote?: string;
    } = {},
  ) {}

  private get policy(): RestartPolicy {
    return this.options.policy ?? DEFAULT_RESTART_POLICY;
  }

  /** The running process, or undefined while it is being restarted. */
  get current(): ServiceProcess | undefined {
    return this.process;
  }

  /** First start; rejects when the service does not come up. */
  async start(): Promise<ServiceProcess> {
    const launched = this.launch();
    // The caller sees a failed first start through `launched`; `attempt` only lets stop() wait for it.
    this.attempt = launched.then(
      (started) => this.say(`${this.name} running as pid ${started.pid} on ${started.url}`),
      () => undefined,
    );
    return launched;
  }

  /** Stops the service and any restart in flight; nothing is restarted afterwards. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.pendingRestart);
    this.abort.abort();
    // A start in flight stops its own process when aborted; only then is `process` final.
    await this.attempt?.catch(() => undefined);
    await this.process?.stop(timeoutMs);
  }

  private async launch(): Promise<ServiceProcess> {
    let ready = false;
    const started = await this.starter({
      abort: this.abort.signal,
      // An exit before readiness is the start's own failure (it rejects); only a ready process crashes.
      onUnexpectedExit: (code, signal) => {
        if (ready) this.crashed(code, signal);
      },
    });
    ready = true;
    if (this.stopping) {
      // Became ready just as the launcher began stopping: nobody else will stop it.
      await started.stop(5000);
      throw new Error(`${this.name} stopped while starting`);
    }
    this.process = started;
    this.upSince = Date.now();
    return started;
  }

  private crashed(code: number | null, signal: NodeJS.Signals | null): void {
    this.process = undefined;
    if (this.stopping) return;
    const upMs = Date.now() - this.upSince;
    if (upMs >= this.policy.resetAfterMs) this.failures = 0;
    this.failures += 1;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    this.schedule(`${this.name} exited unexpectedly (${how}) after ${seconds(upMs)} up`);
    if (this.options.restartNote) this.say(`  (${this.options.restartNote})`);
  }

  private schedule(reason: string): void {
    const delay = restartDelayMs(this.failures, this.policy);
    this.say(`${reason}; restarting it in ${seconds(delay)} (restart ${this.restarts + 1}); everything else keeps running`);
    this.pendingRestart = setTimeout(() => {
      this.restarts += 1;
      const began = Date.now();
      this.attempt = this.launch().then(
        (started) => this.say(`${this.name} is back after restart ${this.restarts}: pid ${started.pid} on ${started.url}, ready in ${seconds(Date.now() - began)}`),
        (error: unknown) => {
          if (this.stopping) return;
          this.failures += 1;
          const firstLine = (error instanceof Error ? error.message : String(error)).split('\n')[0];
          this.schedule(`${this.name} restart ${this.restarts} failed (${firstLine})`);
        },
      );
    }, delay);
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
