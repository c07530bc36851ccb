import { describe, expect, it } from 'vitest';
import { chooseVariant, userHash } from './variant-choice.js';

const live = (...variants: string[]) => (v: string) => variants.includes(v);

describe('variant choice', () => {
  it('explicit, else the default, else the per-user split; a variant not yet live falls back to frozen', () => {
    const split = [
      { variant: 'ladder', weight: 1 },
      { variant: 'lora', weight: 1 },
    ];
    expect(chooseVariant({ defaultVariant: 'ladder', split }, 'u', live('ladder', 'frozen'), 'lora')).toBe('lora');
    expect(chooseVariant({ defaultVariant: 'ladder', split }, 'u', live('ladder', 'frozen'))).toBe('ladder');
    expect(chooseVariant({ defaultVariant: 'ladder', split }, 'u', live('frozen'))).toBe('frozen');
    const arms = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const v = chooseVariant({ defaultVariant: undefined, split }, `user-${i}`, live('ladder', 'lora', 'frozen'));
      arms.set(v, (arms.get(v) ?? 0) + 1);
      // Deterministic: the same user always lands in the same arm.
      expect(chooseVariant({ defaultVariant: undefined, split }, `user-${i}`, live('ladder', 'lora', 'frozen'))).toBe(v);
    }
    expect(arms.get('ladder')).toBeGreaterThan(850);
    expect(arms.get('lora')).toBeGreaterThan(850);
  });

  it('hashes with FNV-1a', () => {
    expect(userHash('')).toBe(0x811c9dc5);
    expect(userHash('a')).toBe(0xe40c292c);
  });
});
