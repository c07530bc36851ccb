import type { VariantWeight } from './config.js';

export interface VariantPolicy {
  readonly defaultVariant: string | undefined;
  readonly split: readonly VariantWeight[];
}

/** FNV-1a, 32 bit: stable across processes and versions, so a user stays in one A/B arm. */
export function userHash(userId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Which variant answers: the one the request names; else the configured default; else the user's
 * arm of the weighted split; a variant that is not live (no snapshot yet) falls back to `frozen`,
 * which is always live, and the response says so by naming the variant that actually answered.
 */
export function chooseVariant(policy: VariantPolicy, userId: string, isLive: (variant: string) => boolean, requested?: string): string {
  if (requested !== undefined) return requested;
  let chosen = policy.defaultVariant;
  if (chosen === undefined && policy.split.length > 0) {
    const total = policy.split.reduce((sum, s) => sum + s.weight, 0);
    let point = userHash(userId) % total;
    for (const arm of policy.split) {
      if (point < arm.weight) {
        chosen = arm.variant;
        break;
      }
      point -= arm.weight;
    }
  }
  return chosen !== undefined && isLive(chosen) ? chosen : 'frozen';
}
