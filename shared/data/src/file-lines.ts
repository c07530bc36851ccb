import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export interface NumberedLine {
  /** 1-based physical line number, blank lines included, so it matches what an editor shows. */
  line: number;
  text: string;
}

export interface LoadProgress {
  /** Physical lines read so far. */
  lines: number;
  bytesRead: number;
  totalBytes: number;
}

export interface LoadOptions {
  /**
   * Called every PROGRESS_EVERY lines and once at the end, so a CLI can draw a progress bar over
   * a multi-minute load of a large dataset.
   */
  onProgress?: (progress: LoadProgress) => void;
}

export const PROGRESS_EVERY = 100_000;

/**
 * Non-blank lines of a text file, read as a stream so a 25M-line MovieLens file never has to fit
 * in memory as one string. Opening through a FileHandle first makes a missing file reject here
 * instead of surfacing as an unhandled stream error; read errors (EISDIR, EIO) reach the caller
 * through readline's async iterator.
 */
export async function* readNumberedLines(path: string, options: LoadOptions = {}): AsyncGenerator<NumberedLine> {
  const handle = await open(path, 'r');
  try {
    const totalBytes = options.onProgress === undefined ? 0 : (await handle.stat()).size;
    const input = handle.createReadStream();
    // crlfDelay: Infinity treats a \r\n split across two chunks as one break, so Windows-edited
    // files do not grow phantom blank lines.
    const lines = createInterface({ input, crlfDelay: Infinity });
    let line = 0;
    for await (const raw of lines) {
      line++;
      if (line % PROGRESS_EVERY === 0) options.onProgress?.({ lines: line, bytesRead: input.bytesRead, totalBytes });
      // An editor's byte-order mark would otherwise become part of the first header name.
      const text = line === 1 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
      if (text.trim() === '') continue;
      yield { line, text };
    }
    options.onProgress?.({ lines: line, bytesRead: totalBytes, totalBytes });
  } finally {
    await handle.close();
  }
}

/**
 * Ids repeat on almost every line (162k users across 25M MovieLens ratings); sharing one string
 * per distinct id instead of one per line saves gigabytes on the big files.
 */
export function createInterner(): (value: string) => string {
  const seen = new Map<string, string>();
  return (value) => {
    const existing = seen.get(value);
    if (existing !== undefined) return existing;
    seen.set(value, value);
    return value;
  };
}

/**
 * The same for ids known to be digits: small ones index a plain array (no hashing at all, the
 * common case: MovieLens ids stay below 300k), larger ones go through a Map keyed by number.
 * Ids come out canonical (no leading zeros) as a side effect.
 */
export function createNumericInterner(): (digits: string) => string {
  const small: string[] = [];
  const large = new Map<number, string>();
  return (digits) => {
    const key = Number(digits);
    if (key < 1 << 24) return (small[key] ??= String(key));
    let existing = large.get(key);
    if (existing === undefined) {
      existing = String(key);
      large.set(key, existing);
    }
    return existing;
  };
}

/** Where a parser is: one object per file, updated per line, so parsing allocates no closures. */
export interface LinePosition {
  readonly file: string;
  line: number;
}
