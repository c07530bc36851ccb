/**
 * Each user's most recent items (oldest first), bounded twice: at most `maxLength` items per
 * user, and at most `maxUsers` users, the least recently active one evicted first. A Map keeps
 * insertion order, so re-inserting a user on every event makes its first key the LRU victim.
 */
export class HistoryStore {
  readonly maxLength: number;
  readonly maxUsers: number;
  readonly #users = new Map<string, string[]>();
  #events = 0;

  constructor(options: { maxLength: number; maxUsers: number }) {
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) throw new RangeError(`maxLength must be a positive integer, got ${options.maxLength}`);
    if (!Number.isInteger(options.maxUsers) || options.maxUsers < 1) throw new RangeError(`maxUsers must be a positive integer, got ${options.maxUsers}`);
    this.maxLength = options.maxLength;
    this.maxUsers = options.maxUsers;
  }

  append(userId: string, itemId: string): void {
    const items = this.#users.get(userId) ?? [];
    this.#users.delete(userId);
    items.push(itemId);
    this.#events++;
    if (items.length > this.maxLength) {
      this.#events -= items.length - this.maxLength;
      items.splice(0, items.length - this.maxLength);
    }
    this.#users.set(userId, items);
    if (this.#users.size > this.maxUsers) {
      const [oldest, dropped] = this.#users.entries().next().value as [string, string[]];
      this.#users.delete(oldest);
      this.#events -= dropped.length;
    }
  }

  /** A copy, oldest first; empty for an unknown user. Reading does not count as activity. */
  get(userId: string): string[] {
    return [...(this.#users.get(userId) ?? [])];
  }

  /** The `limit` most recently active users, most recent first (for the dashboard's explorer). */
  recentUsers(limit: number): string[] {
    const users = [...this.#users.keys()];
    return users.slice(Math.max(0, users.length - limit)).reverse();
  }

  get users(): number {
    return this.#users.size;
  }

  get events(): number {
    return this.#events;
  }
}
