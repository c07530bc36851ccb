/**
 * JSON text of a parsed value without recursion and with a ceiling on its length, for writing
 * what a client sent into a dead letter. `JSON.stringify` recurses once per nesting level, so an
 * 8 KB body nested 4,000 levels deep overflowed the stack there (JSON.parse itself is iterative and
 * accepts it); it also has no length bound. This encoder keeps an explicit stack and stops at
 * `maxChars`, so it returns for any input, cycles and exotic values included.
 */
export interface BoundedJson {
  text: string;
  /** False when the text stopped at `maxChars` (it is then a prefix of the full encoding). */
  complete: boolean;
}

type Frame = { kind: 'array'; items: readonly unknown[]; next: number } | { kind: 'object'; record: Record<string, unknown>; keys: string[]; next: number };

/** A leaf as JSON.stringify writes it; what JSON cannot hold (bigint, function, symbol, undefined) is `null`. */
function leaf(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return undefined;
    default:
      return 'null';
  }
}

export function boundedJson(value: unknown, maxChars: number): BoundedJson {
  const out: string[] = [];
  let length = 0;
  const write = (text: string): void => {
    out.push(text);
    length += text.length;
  };
  const stack: Frame[] = [];
  const result = (complete: boolean): BoundedJson => {
    const text = out.join('');
    return complete && length <= maxChars ? { text, complete: true } : { text: text.slice(0, maxChars), complete: false };
  };

  // Writes a leaf, or opens a container by writing its bracket and pushing its frame.
  const begin = (v: unknown): void => {
    // A string leaf longer than the ceiling is cut first, so the cost stays bounded too.
    if (typeof v === 'string' && v.length > maxChars) return write(JSON.stringify(v.slice(0, maxChars)));
    const simple = leaf(v);
    if (simple !== undefined) return write(simple);
    if (Array.isArray(v)) {
      stack.push({ kind: 'array', items: v, next: 0 });
      return write('[');
    }
    const record = v as Record<string, unknown>;
    // JSON.stringify leaves out what JSON cannot hold; so does this.
    const keys = Object.keys(record).filter((k) => record[k] !== undefined && typeof record[k] !== 'function' && typeof record[k] !== 'symbol');
    stack.push({ kind: 'object', record, keys, next: 0 });
    return write('{');
  };

  try {
    begin(value);
    // One element per step; a cycle (never made by JSON.parse) only runs until the ceiling.
    while (stack.length > 0 && length <= maxChars) {
      const frame = stack[stack.length - 1]!;
      const items = frame.kind === 'array' ? frame.items.length : frame.keys.length;
      if (frame.next >= items) {
        stack.pop();
        write(frame.kind === 'array' ? ']' : '}');
        continue;
      }
      if (frame.next > 0) write(',');
      const i = frame.next++;
      if (frame.kind === 'array') {
        begin(frame.items[i]);
      } else {
        const key = frame.keys[i]!;
        write(`${JSON.stringify(key)}:`);
        begin(frame.record[key]);
      }
    }
  } catch {
    // Only a value JSON.parse never makes gets here (a getter or Proxy that throws): what was
    // written so far is kept, marked incomplete, instead of failing the caller.
    return result(false);
  }
  return result(stack.length === 0);
}
