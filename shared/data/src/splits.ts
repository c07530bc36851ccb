import type { Interaction } from './interaction.js';

/**
 * Input positions in time order; equal timestamps keep their input order, which is the only
 * tie-break a loader can vouch for.
 */
function chronologicalOrder(interactions: readonly Interaction[]): number[] {
  const order = interactions.map((_, index) => index);
  return order.sort((a, b) => (interactions[a] as Interaction).ts - (interactions[b] as Interaction).ts || a - b);
}

/** Each user's events in time order (stable for equal ts), users in order of first appearance in time. */
export function groupByUser(interactions: readonly Interaction[]): Map<string, Interaction[]> {
  const byUser = new Map<string, Interaction[]>();
  for (const index of chronologicalOrder(interactions)) {
    const event = interactions[index] as Interaction;
    const list = byUser.get(event.userId);
    if (list === undefined) byUser.set(event.userId, [event]);
    else list.push(event);
  }
  return byUser;
}

/**
 * The standard next-item protocol: per user the last event is the test target, the one before it
 * validation, the rest training. Users with fewer than 3 events stay whole in train, because a
 * user with no training history cannot be scored sequentially. Each output is in time order.
 */
export function leaveOneOutSplit(interactions: readonly Interaction[]): {
  train: Interaction[];
  valid: Interaction[];
  test: Interaction[];
} {
  const order = chronologicalOrder(interactions);
  const positionsByUser = new Map<string, number[]>();
  for (const index of order) {
    const userId = (interactions[index] as Interaction).userId;
    const positions = positionsByUser.get(userId);
    if (positions === undefined) positionsByUser.set(userId, [index]);
    else positions.push(index);
  }
  const role = new Uint8Array(interactions.length); // 0 train, 1 valid, 2 test
  for (const positions of positionsByUser.values()) {
    if (positions.length < 3) continue;
    role[positions[positions.length - 1] as number] = 2;
    role[positions[positions.length - 2] as number] = 1;
  }
  const train: Interaction[] = [];
  const valid: Interaction[] = [];
  const test: Interaction[] = [];
  for (const index of order) {
    const event = interactions[index] as Interaction;
    const target = role[index] === 2 ? test : role[index] === 1 ? valid : train;
    target.push(event);
  }
  return { train, valid, test };
}

/**
 * Splits by time. `{ ts }`: before = ts < at.ts, after = the rest. `{ fraction }`: the earliest
 * `fraction` of events go before, except that events sharing the boundary timestamp all go after,
 * so that every `before` event is strictly older than every `after` event (no leak through ties).
 * Both outputs are in time order.
 */
export function timeSplit(
  interactions: readonly Interaction[],
  at: { ts: number } | { fraction: number },
): { before: Interaction[]; after: Interaction[] } {
  const sorted = chronologicalOrder(interactions).map((index) => interactions[index] as Interaction);
  let cut: number;
  if ('ts' in at) {
    if (Number.isNaN(at.ts)) throw new RangeError('timeSplit: ts must be a number, got NaN');
    cut = sorted.findIndex((event) => event.ts >= at.ts);
    if (cut < 0) cut = sorted.length;
  } else {
    if (!(at.fraction >= 0 && at.fraction <= 1)) {
      throw new RangeError(`timeSplit: fraction must be within [0, 1], got ${at.fraction}`);
    }
    cut = Math.round(sorted.length * at.fraction);
    while (cut > 0 && cut < sorted.length && (sorted[cut - 1] as Interaction).ts === (sorted[cut] as Interaction).ts) cut--;
  }
  return { before: sorted.slice(0, cut), after: sorted.slice(cut) };
}
