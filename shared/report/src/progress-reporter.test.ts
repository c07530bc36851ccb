import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressReporter, silentProgress, type ProgressStream } from './progress-reporter.js';

function captureStream(isTTY: boolean): { stream: ProgressStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 160;
  return { stream, text: () => chunks.join('') };
}

describe('createProgressReporter on a non-TTY stream', () => {
  it('prints plain, throttled lines with count, percentage, rate, ETA and fields', () => {
    const { stream, text } = captureStream(false);
    let clock = 1_000_000;
    const progress = createProgressReporter({ stream, label: 'pretrain', plainIntervalMs: 5000, now: () => clock });
    progress.start(1000, 'epoch 1');
    for (let done = 1; done <= 1000; done++) {
      clock += 10;
      progress.update(done, { loss: 1 / done + 0.123456 });
    }
    progress.stop();

    const lines = text().trimEnd().split('\n');
    // 10 s of work at most one line per 5 s: start, two progress lines, the final line.
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('epoch 1 started: 1000 to do');
    expect(lines[1]).toBe('epoch 1 500/1000 (50%) | 100/s | ETA 5s | loss 0.1255');
    expect(lines[3]).toBe('epoch 1 finished 1000/1000 (100%) in 10s | 100/s | loss 0.1245');
    expect(text()).not.toContain('\x1b');
  });

  it('keeps the reporter label when start gives none, and formats long ETAs', () => {
    const { stream, text } = captureStream(false);
    let clock = 0;
    const progress = createProgressReporter({ stream, label: 'download', now: () => clock });
    progress.start(10_000);
    clock = 6000;
    progress.update(10);
    expect(text()).toContain('download 10/10000 (0%) | 1.67/s | ETA 1h39m');
    progress.stop();
    progress.stop();
    expect(text().trimEnd().split('\n')).toHaveLength(3);
  });

  it('ignores updates outside a started task', () => {
    const { stream, text } = captureStream(false);
    const progress = createProgressReporter({ stream, label: 'x', now: () => 0 });
    progress.update(3);
    progress.stop();
    expect(text()).toBe('');
    expect(() => progress.start(-1)).toThrow(RangeError);
  });
});

describe('createProgressReporter on a TTY stream', () => {
  it('draws a cli-progress bar with the rate and custom fields', () => {
    const { stream, text } = captureStream(true);
    let clock = 0;
    const progress = createProgressReporter({ stream, label: 'eval', now: () => clock });
    progress.start(200);
    clock = 2000;
    progress.update(200, { hr10: 0.25 });
    progress.stop();
    const out = text();
    expect(out).toContain('eval');
    expect(out).toContain('100%');
    expect(out).toContain('200/200');
    expect(out).toContain('100/s');
    expect(out).toContain('| hr10 0.25');
    expect(out).toContain('ETA');
  });
});

describe('silentProgress', () => {
  it('accepts the whole protocol and prints nothing', () => {
    const progress = silentProgress();
    progress.start(5, 'quiet');
    progress.update(5, { loss: 1 });
    progress.stop();
    expect(progress).toBeDefined();
  });
});
