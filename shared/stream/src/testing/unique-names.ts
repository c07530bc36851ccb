import { randomBytes } from 'node:crypto';

/**
 * A fresh prefix per test, so each test's topics and consumer groups are its own and no test can
 * read another's messages, even when they share one broker.
 */
export function uniqueName(label: string): string {
  return `t-${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
