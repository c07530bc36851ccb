import { describe, expect, it } from 'vitest';
import { parseVariants } from './variant-spec.js';

describe('parseVariants (RECO_VARIANTS)', () => {
  it('reads name or name:method', () => {
    expect(parseVariants('ladder, lora ,b:bitfit')).toEqual([
      { name: 'ladder', method: 'ladder' },
      { name: 'lora', method: 'lora' },
      { name: 'b', method: 'bitfit' },
    ]);
  });

  it.each([
    ['ladder,ladder', 'lists variant "ladder" twice'],
    ['x:sgd', 'names unknown method "sgd"'],
    [' , ', 'names no variant'],
    ['bad name!', 'is not a valid variant name'],
  ])('refuses %j', (raw, message) => {
    expect(() => parseVariants(raw)).toThrow(message);
  });
});
