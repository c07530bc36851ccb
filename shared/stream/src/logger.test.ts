import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, readLogSettings, writesPretty } from './logger.js';

/** A destination that keeps what is written; `isTTY` plays a terminal. */
function sink(isTTY: boolean): Writable & { isTTY: boolean; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return Object.assign(stream, { isTTY, text: () => text });
}

/** pino-pretty writes into a stream destination through a pipe: one turn of the event loop. */
const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('readLogSettings', () => {
  it('defaults to info, pretty decided by the destination', () => {
    expect(readLogSettings({})).toEqual({ level: 'info', pretty: undefined });
  });

  it('reads LOG_LEVEL and RECO_LOG_PRETTY', () => {
    expect(readLogSettings({ LOG_LEVEL: 'DEBUG', RECO_LOG_PRETTY: '1' })).toEqual({ level: 'debug', pretty: true });
    expect(readLogSettings({ LOG_LEVEL: 'warn', RECO_LOG_PRETTY: 'false' })).toEqual({ level: 'warn', pretty: false });
  });

  it('names the variable of an impossible value', () => {
    expect(() => readLogSettings({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of trace, debug, info/);
    expect(() => readLogSettings({ RECO_LOG_PRETTY: 'yes' })).toThrow(/RECO_LOG_PRETTY must be 1, true, 0 or false/);
  });
});

describe('createLogger', () => {
  it('writes one JSON object per line with pino levels and the name when the destination is no terminal', () => {
    const out = sink(false);
    const logger = createLogger({ name: 'serving', destination: out });
    logger.info({ items: 3 }, 'backbone loaded');
    logger.error({ code: 'X' }, 'went wrong');
    logger.debug({}, 'not at info');
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, name: 'serving', items: 3, msg: 'backbone loaded' });
    expect(lines[1]).toMatchObject({ level: 50, msg: 'went wrong' });
    expect(writesPretty({ destination: out })).toBe(false);
  });

  it('writes pretty lines, name first, on a terminal', async () => {
    const out = sink(true);
    const logger = createLogger({ name: 'updater', destination: out });
    logger.warn({ variant: 'ladder' }, 'snapshot refused');
    await flushed();
    const text = out.text();
    expect(text).toMatch(/WARN.*\[updater\].*snapshot refused.*"variant":"ladder"/);
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(writesPretty({ destination: out })).toBe(true);
  });

  it('follows RECO_LOG_PRETTY over the terminal check, both ways, without colour off a terminal', async () => {
    const pipe = sink(false);
    createLogger({ name: 'start', pretty: true, destination: pipe }).info({}, 'up and running');
    await flushed();
    expect(pipe.text()).toMatch(/^\[[\d:.]+\] INFO: \[start\] up and running\n$/);
    const terminal = sink(true);
    createLogger({ name: 'start', pretty: false, destination: terminal }).info({}, 'up and running');
    expect(JSON.parse(terminal.text())).toMatchObject({ level: 30, msg: 'up and running' });
  });

  it('honours the level', () => {
    const out = sink(false);
    const logger = createLogger({ name: 'x', level: 'debug', destination: out });
    logger.debug({}, 'shown at debug');
    expect(JSON.parse(out.text())).toMatchObject({ level: 20, msg: 'shown at debug' });
  });
});
