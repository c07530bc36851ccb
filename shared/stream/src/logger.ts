import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The logging surface this package needs. The loggers createLogger makes (pino) and Fastify's
 * request loggers satisfy it as they are, so KafkaJS's logs end up in the same stream.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What createLogger returns: a pino logger, which is also what Fastify's `loggerInstance` takes. */
export type ServiceLogger = PinoLogger;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How a process logs, read once from its environment by its config module. */
export interface LogSettings {
  readonly level: LogLevel;
  /** true or false when RECO_LOG_PRETTY says so; undefined: pretty exactly when the destination is a terminal. */
  readonly pretty: boolean | undefined;
}

/**
 * LOG_LEVEL (default info) and RECO_LOG_PRETTY (1/true or 0/false; unset: pretty on a terminal,
 * JSON lines otherwise). Children of `npm start` inherit both, so the launcher and its services
 * agree on the format.
 */
export function readLogSettings(env: Readonly<Record<string, string | undefined>>): LogSettings {
  const level = (env.LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${env.LOG_LEVEL}')`);
  const raw = env.RECO_LOG_PRETTY?.trim().toLowerCase();
  let prettyOn: boolean | undefined;
  if (raw === undefined || raw === '') prettyOn = undefined;
  else if (raw === '1' || raw === 'true') prettyOn = true;
  else if (raw === '0' || raw === 'false') prettyOn = false;
  else throw new Error(`RECO_LOG_PRETTY must be 1, true, 0 or false (got '${env.RECO_LOG_PRETTY}')`);
  return Object.freeze({ level: level as LogLevel, pretty: prettyOn });
}

/** Where log lines go: a standard stream (by default stdout, like Fastify), or any writable stream (tests). */
export type LogDestination = 'stdout' | 'stderr' | (NodeJS.WritableStream & { isTTY?: boolean });

export interface LoggerOptions {
  /** The process or component: `serving`, `updater`, `start`; shown as `[name]` when pretty. */
  name: string;
  level?: LogLevel;
  /** See LogSettings.pretty. */
  pretty?: boolean | undefined;
  /** CLIs whose stdout carries their result log to stderr. */
  destination?: LogDestination;
}

/** Whether a logger made with these options writes pretty lines rather than JSON. */
export function writesPretty(options: Pick<LoggerOptions, 'pretty' | 'destination'>): boolean {
  return options.pretty ?? streamOf(options.destination ?? 'stdout').isTTY === true;
}

/**
 * The one logger factory of the repo: pino, JSON lines (one object per line, pino's numeric
 * levels) for log collectors, or pino-pretty's one line per record when a person reads it.
 * Both write synchronously: a process that exits right after logging (a failed start, Ctrl-C)
 * loses no line, and lines of processes sharing a terminal do not interleave mid-line.
 */
export function createLogger(options: LoggerOptions): ServiceLogger {
  const destination = options.destination ?? 'stdout';
  const target = streamOf(destination);
  const settings = { name: options.name, level: options.level ?? 'info' };
  if (!writesPretty(options)) {
    return pino(settings, typeof destination === 'string' ? pino.destination({ fd: destination === 'stderr' ? 2 : 1, sync: true }) : destination);
  }
  const prettyStream = pretty({
    destination: typeof destination === 'string' ? (destination === 'stderr' ? 2 : 1) : destination,
    sync: true,
    // Colour only for a real terminal: RECO_LOG_PRETTY=1 into a file or a pipe stays plain text.
    colorize: target.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    messageFormat: '[{name}] {msg}',
    singleLine: true,
    // KafkaJS's lines carry the broker's answer as a string `error`; pino-pretty's default would hide it as an error-like key.
    errorLikeObjectKeys: ['err'],
  });
  return pino(settings, prettyStream);
}

function streamOf(destination: LogDestination): { isTTY?: boolean } {
  if (destination === 'stdout') return process.stdout;
  if (destination === 'stderr') return process.stderr;
  return destination;
}

/** A logger that drops everything, for tests and probes. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
