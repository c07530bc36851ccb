import cliProgress from 'cli-progress';

/** Progress of one long task (a pretraining epoch, an evaluation pass, a download). */
export interface ProgressReporter {
  /** Begin a task of `total` units; `label` replaces the reporter's label for this task. */
  start(total: number, label?: string): void;
  /** Units done so far (absolute, not an increment), plus fields to show, e.g. `{ loss: 0.42 }`. */
  update(done: number, fields?: Record<string, string | number>): void;
  /**
   * End the task, leaving a final line behind. Safe to call twice or without a start. Call it in
   * a `finally`: a started terminal bar holds a redraw timer that keeps the process alive.
   */
  stop(): void;
}

/** Where progress goes; `isTTY` decides between a redrawn bar and plain log lines. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressReporterOptions {
  /** Default: process.stderr, so progress never mixes into a command's stdout output. */
  stream?: ProgressStream;
  label: string;
  /**
   * cli-progress format of the TTY bar. Placeholders: {label} {bar} {percentage} {value} {total}
   * {rate} (units per second) {eta_formatted} {duration_formatted} {fields} (the custom fields,
   * with a leading separator when there are any).
   */
  format?: string;
  /** Least time between two plain lines on a non-TTY stream; default 5000 ms. */
  plainIntervalMs?: number;
  /** Clock for rate and throttling, injectable for tests. */
  now?: () => number;
}

const DEFAULT_FORMAT = '{label} {bar} {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}{fields}';

/**
 * A redrawn bar on a terminal; on anything else (CI logs, files, pipes) one plain line at most
 * every few seconds, because redraw escape codes turn a log into thousands of garbage lines.
 */
export function createProgressReporter(opts: ProgressReporterOptions): ProgressReporter {
  const stream: ProgressStream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  return stream.isTTY === true
    ? new TerminalProgress(stream, opts.label, opts.format ?? DEFAULT_FORMAT, now)
    : new PlainProgress(stream, opts.label, opts.plainIntervalMs ?? 5000, now);
}

/** A reporter that shows nothing, for tests and for library calls that want no output. */
export function silentProgress(): ProgressReporter {
  return { start: () => undefined, update: () => undefined, stop: () => undefined };
}

/** State shared by both displays: what is being done, how far, how fast. */
abstract class ProgressBase implements ProgressReporter {
  protected label: string;
  protected total = 0;
  protected done = 0;
  protected fields: Record<string, string | number> = {};
  protected startedAt = 0;
  protected active = false;

  constructor(
    label: string,
    protected readonly now: () => number,
  ) {
    this.label = label;
  }

  start(total: number, label?: string): void {
    if (!Number.isFinite(total) || total < 0) throw new RangeError(`total must be a finite number >= 0, got ${total}`);
    if (this.active) this.stop();
    if (label !== undefined) this.label = label;
    this.total = total;
    this.done = 0;
    this.fields = {};
    this.startedAt = this.now();
    this.active = true;
    this.onStart();
  }

  update(done: number, fields?: Record<string, string | number>): void {
    if (!this.active) return;
    this.done = done;
    if (fields !== undefined) this.fields = { ...this.fields, ...fields };
    this.onUpdate();
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.onStop();
  }

  protected elapsedSeconds(): number {
    return Math.max(0, this.now() - this.startedAt) / 1000;
  }

  protected rate(): number {
    const seconds = this.elapsedSeconds();
    return seconds > 0 ? this.done / seconds : 0;
  }

  protected fieldsText(): string {
    const entries = Object.entries(this.fields);
    return entries.length === 0 ? '' : ' | ' + entries.map(([k, v]) => `${k} ${formatField(v)}`).join(' | ');
  }

  protected abstract onStart(): void;
  protected abstract onUpdate(): void;
  protected abstract onStop(): void;
}

class TerminalProgress extends ProgressBase {
  private readonly bar: cliProgress.SingleBar;

  constructor(stream: ProgressStream, label: string, format: string, now: () => number) {
    super(label, now);
    // cli-progress's graceful exit installs a SIGINT handler that swallows the first Ctrl-C;
    // a long pretraining run must stop on the first one, and a visible cursor needs no restoring.
    this.bar = new cliProgress.SingleBar(
      { stream, format, hideCursor: false, gracefulExit: false, etaBuffer: 50, fps: 10, barsize: 30 },
      cliProgress.Presets.shades_classic,
    );
  }

  protected onStart(): void {
    this.bar.start(this.total, 0, this.payload());
  }

  protected onUpdate(): void {
    this.bar.update(this.done, this.payload());
  }

  protected onStop(): void {
    this.bar.update(this.done, this.payload());
    this.bar.stop();
  }

  private payload(): Record<string, string> {
    return { label: this.label, rate: formatRate(this.rate()), fields: this.fieldsText() };
  }
}

class PlainProgress extends ProgressBase {
  private lastLineAt = 0;

  constructor(
    private readonly stream: ProgressStream,
    label: string,
    private readonly intervalMs: number,
    now: () => number,
  ) {
    super(label, now);
  }

  protected onStart(): void {
    this.print(`${this.label} started: ${this.total} to do`);
  }

  protected onUpdate(): void {
    if (this.now() - this.lastLineAt < this.intervalMs) return;
    const rate = this.rate();
    const eta = rate > 0 ? formatDuration(Math.max(0, this.total - this.done) / rate) : '?';
    this.print(`${this.label} ${this.done}/${this.total} (${this.percent()}%) | ${formatRate(rate)}/s | ETA ${eta}${this.fieldsText()}`);
  }

  protected onStop(): void {
    this.print(
      `${this.label} finished ${this.done}/${this.total} (${this.percent()}%) in ${formatDuration(this.elapsedSeconds())}` +
        ` | ${formatRate(this.rate())}/s${this.fieldsText()}`,
    );
  }

  private percent(): number {
    return this.total > 0 ? Math.floor((100 * Math.min(this.done, this.total)) / this.total) : 100;
  }

  private print(line: string): void {
    this.lastLineAt = this.now();
    this.stream.write(line + '\n');
  }
}

function formatRate(perSecond: number): string {
  if (perSecond >= 100) return Math.round(perSecond).toString();
  if (perSecond >= 10) return perSecond.toFixed(1);
  return perSecond.toFixed(2);
}

function formatField(value: string | number): string {
  if (typeof value === 'string' || Number.isInteger(value)) return String(value);
  return Number(value.toPrecision(4)).toString();
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
