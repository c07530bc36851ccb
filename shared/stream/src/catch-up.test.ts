import { describe, expect, it } from 'vitest';
import { CatchUp } from './catch-up.js';

describe('CatchUp', () => {
  it('is caught up once armed and every partition reached its end - 1 (compacted offsets never arrive)', async () => {
    let told = 0;
    const catchUp = new CatchUp(
      new Map([
        [0, 5n],
        [1, 3n],
      ]),
      () => told++,
    );
    catchUp.arm();
    catchUp.passed(0, 4n);
    expect(catchUp.caughtUp).toBe(false);
    catchUp.passed(1, 1n);
    expect(catchUp.caughtUp).toBe(false);
    catchUp.passed(1, 2n);
    expect(catchUp.caughtUp).toBe(true);
    catchUp.passed(1, 3n);
    await catchUp.whenCaughtUp;
    expect(told).toBe(1);
  });

  it('an empty topic is caught up only when the reader is armed, not before', () => {
    const catchUp = new CatchUp(new Map());
    catchUp.passed(0, 0n);
    expect(catchUp.caughtUp).toBe(false);
    catchUp.arm();
    expect(catchUp.caughtUp).toBe(true);
  });

  it('offsets read before arming count once it is armed', () => {
    const catchUp = new CatchUp(new Map([[0, 2n]]));
    catchUp.passed(0, 1n);
    expect(catchUp.caughtUp).toBe(false);
    catchUp.arm();
    expect(catchUp.caughtUp).toBe(true);
  });
});
