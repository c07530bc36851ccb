/**
 * The logging surface this package needs. pino and Fastify's logger satisfy it as they are, so
 * services pass their own logger in and KafkaJS's logs end up in the same structured stream.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything, for tests and probes. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Line-per-record JSON on stderr; for CLIs that have no service logger. */
export function consoleLogger(minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const make =
    (level: (typeof order)[number]) =>
    (obj: object, msg?: string): void => {
      if (order.indexOf(level) < order.indexOf(minLevel)) return;
      process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...obj })}\n`);
    };
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}
