import type { SlotFilter } from './ranking-metrics.js';

interface UserRecord {
  /** The last `maxLength` slots, oldest first (the model's input). */
  recent: number[];
  /** Every distinct slot the user has had, by position of first appearance. */
  firstSeen: Map<number, number>;
}

/**
 * Recent items per user, bounded twice: each history keeps its last `maxLength` slots, and at
 * most `maxUsers` users are remembered, the least recently active forgotten first, so a long
 * stream of one-off visitors cannot grow the updater's memory without limit.
 *
 * It also remembers every distinct item a user has had, in order, because the evaluation
 * protocol excludes already-seen items as serving does: `seenBefore(user, n)` is the set of the
 * first `n` distinct items, so a click scored a few events after it was booked is ranked
 * against exactly what the user had then, never against items clicked later.
 */
export class UserHistories {
  private readonly users = new Map<string, UserRecord>();

  constructor(
    readonly maxLength: number,
    readonly maxUsers: number,
  ) {
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
    if (!Number.isInteger(maxUsers) || maxUsers < 1) throw new RangeError(`maxUsers must be a positive integer, got ${maxUsers}`);
  }

  get size(): number {
    return this.users.size;
  }

  /** A copy of the user's recent slots, oldest first (empty for an unknown user). */
  get(userId: string): number[] {
    return [...(this.users.get(userId)?.recent ?? [])];
  }

  /** How many distinct slots the user has had so far. */
  seenCount(userId: string): number {
    return this.users.get(userId)?.firstSeen.size ?? 0;
  }

  /** The user's first `count` distinct slots (a live view, valid while the user is remembered). */
  seenBefore(userId: string, count: number): SlotFilter {
    const firstSeen = this.users.get(userId)?.firstSeen;
    if (firstSeen === undefined || count <= 0) return NOTHING;
    return {
      has: (slot) => (firstSeen.get(slot) ?? Number.POSITIVE_INFINITY) < count,
      // The Map is in first-seen order, so the first `count` keys are exactly these slots.
      forEach: (visit) => {
        let n = 0;
        for (const slot of firstSeen.keys()) {
          if (n++ >= count) return;
          visit(slot);
        }
      },
    };
  }

  append(userId: string, slot: number): void {
    const record = this.users.get(userId) ?? { recent: [], firstSeen: new Map<number, number>() };
    // Re-inserting moves the user to the most recent end of the Map's order.
    this.users.delete(userId);
    record.recent.push(slot);
    if (record.recent.length > this.maxLength) record.recent.splice(0, record.recent.length - this.maxLength);
    if (!record.firstSeen.has(slot)) record.firstSeen.set(slot, record.firstSeen.size);
    this.users.set(userId, record);
    if (this.users.size > this.maxUsers) {
      const oldest = this.users.keys().next().value;
      if (oldest !== undefined) this.users.delete(oldest);
    }
  }
}

const NOTHING: SlotFilter = { has: () => false, forEach: () => undefined };
