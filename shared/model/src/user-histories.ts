/**
 * Recent items per user, bounded twice: each history keeps its last `maxLength` slots, and at
 * most `maxUsers` users are remembered, the least recently active forgotten first, so a long
 * stream of one-off visitors cannot grow the updater's memory without limit.
 */
export class UserHistories {
  private readonly histories = new Map<string, number[]>();

  constructor(
    readonly maxLength: number,
    readonly maxUsers: number,
  ) {
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
    if (!Number.isInteger(maxUsers) || maxUsers < 1) throw new RangeError(`maxUsers must be a positive integer, got ${maxUsers}`);
  }

  get size(): number {
    return this.histories.size;
  }

  /** A copy of the user's recent slots, oldest first (empty for an unknown user). */
  get(userId: string): number[] {
    return [...(this.histories.get(userId) ?? [])];
  }

  append(userId: string, slot: number): void {
    const history = this.histories.get(userId) ?? [];
    // Re-inserting moves the user to the most recent end of the Map's order.
    this.histories.delete(userId);
    history.push(slot);
    if (history.length > this.maxLength) history.splice(0, history.length - this.maxLength);
    this.histories.set(userId, history);
    if (this.histories.size > this.maxUsers) {
      const oldest = this.histories.keys().next().value;
      if (oldest !== undefined) this.histories.delete(oldest);
    }
  }
}
