/**
 * The one event shape every loader and the synthetic world produce. It mirrors the value of a
 * `reco.events` message (see @reco/stream) minus transport fields, so a dataset can be replayed
 * onto the topic unchanged.
 */
export type InteractionType = 'click' | 'view' | 'purchase';

export interface Interaction {
  userId: string;
  itemId: string;
  type: InteractionType;
  /** Epoch milliseconds. */
  ts: number;
}

export const INTERACTION_TYPES: readonly InteractionType[] = ['click', 'view', 'purchase'];

export function isInteractionType(value: unknown): value is InteractionType {
  return typeof value === 'string' && (INTERACTION_TYPES as readonly string[]).includes(value);
}

function lowerBound(sorted: Float64Array, size: number, value: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Sorts by ts in place, stably, so events with equal timestamps keep their file order.
 *
 * A comparator sort spends most of a 25M-line MovieLens load calling back into JavaScript, so
 * this ranks timestamps with a native typed-array sort and then places events with a counting
 * sort over the distinct timestamps (stable by construction). An already sorted log costs one pass.
 */
export function sortByTs<T extends { ts: number }>(events: T[]): T[] {
  const n = events.length;
  let sorted = true;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ts = (events[i] as T).ts;
    if (Number.isNaN(ts)) return events.sort((a, b) => a.ts - b.ts);
    keys[i] = ts;
    if (i > 0 && (keys[i - 1] as number) > ts) sorted = false;
  }
  if (sorted) return events;

  const distinct = keys.slice().sort();
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (size === 0 || distinct[size - 1] !== distinct[i]) distinct[size++] = distinct[i] as number;
  }
  const rank = new Uint32Array(n);
  const start = new Uint32Array(size + 1);
  for (let i = 0; i < n; i++) {
    const r = lowerBound(distinct, size, keys[i] as number);
    rank[i] = r;
    start[r + 1] = (start[r + 1] as number) + 1;
  }
  for (let r = 0; r < size; r++) start[r + 1] = (start[r + 1] as number) + (start[r] as number);
  const placed = new Array<T>(n);
  for (let i = 0; i < n; i++) {
    const r = rank[i] as number;
    placed[start[r] as number] = events[i] as T;
    start[r] = (start[r] as number) + 1;
  }
  for (let i = 0; i < n; i++) events[i] = placed[i] as T;
  return events;
}
