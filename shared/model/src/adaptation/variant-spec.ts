import { isMethodName, type MethodName } from './adaptation-method.js';

/** A served and trained variant: the name snapshots are keyed by, and the method behind it. */
export interface VariantSpec {
  readonly name: string;
  readonly method: MethodName;
}

/**
 * Parses the `RECO_VARIANTS` syntax both services read: a comma list of `name` (the method of that
 * name) or `name:method`, e.g. `ladder,lora,b:bitfit`. Refuses empty lists, bad names, unknown
 * methods and duplicates, naming the variable.
 */
export function parseVariants(raw: string): VariantSpec[] {
  const specs = raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const [name = '', method = name] = part.split(':').map((s) => s.trim());
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name)) throw new Error(`RECO_VARIANTS: "${name}" is not a valid variant name`);
      if (!isMethodName(method)) throw new Error(`RECO_VARIANTS: variant "${name}" names unknown method "${method}"`);
      return Object.freeze({ name, method });
    });
  if (specs.length === 0) throw new Error('RECO_VARIANTS names no variant');
  const names = new Set<string>();
  for (const s of specs) {
    if (names.has(s.name)) throw new Error(`RECO_VARIANTS lists variant "${s.name}" twice`);
    names.add(s.name);
  }
  return specs;
}
