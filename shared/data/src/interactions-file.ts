import { DatasetFormatError, UnsupportedDatasetError } from './dataset-error.js';
import { createInterner, readNumberedLines, type LinePosition, type LoadOptions } from './file-lines.js';
import { INTERACTION_TYPES, isInteractionType, sortByTs, type Interaction, type InteractionType } from './interaction.js';

/**
 * Generic interaction logs: CSV with a header, or JSON Lines.
 *
 * Timestamps may be epoch seconds or epoch milliseconds, told apart per value: anything below
 * 1e11 is seconds. 1e11 ms is 1973-03-03 while 1e11 s is the year 5138, so no real event of the
 * last fifty years is ambiguous, and a file that mixes both still loads correctly.
 */
export const SECONDS_THRESHOLD = 1e11;

const NUMBER = /^\d+(\.\d+)?$/;

/** Header names accepted for each column; `movieId` lets MovieLens 20M/25M ratings.csv load as is. */
const COLUMN_ALIASES = {
  user: ['user', 'userid', 'user_id'],
  item: ['item', 'itemid', 'item_id', 'movieid'],
  timestamp: ['timestamp', 'ts', 'time'],
  type: ['type', 'event_type'],
} as const;

function fail(at: LinePosition, reason: string): never {
  throw new DatasetFormatError(at.file, at.line, reason);
}

function toEpochMs(raw: unknown, at: LinePosition): number {
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !NUMBER.test(text.trim())) {
    fail(at, `timestamp ${JSON.stringify(raw)} is not a non-negative number (epoch s or ms)`);
  }
  const value = Number(text);
  return Math.round(value < SECONDS_THRESHOLD ? value * 1000 : value);
}

function toId(raw: unknown, what: string, at: LinePosition): string {
  if (typeof raw === 'string') {
    const id = raw.trim();
    if (id !== '') return id;
  } else if (typeof raw === 'number' && Number.isSafeInteger(raw)) {
    return String(raw);
  }
  return fail(at, `${what} id ${JSON.stringify(raw)} is missing or not a non-empty string or integer`);
}

function toType(raw: unknown, at: LinePosition): InteractionType {
  // The column is optional, so an absent or empty value means the commonest event.
  if (raw === undefined || raw === null || raw === '') return 'click';
  const type = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if (isInteractionType(type)) return type;
  return fail(at, `unknown type ${JSON.stringify(raw)}; expected one of ${INTERACTION_TYPES.join(', ')}`);
}

/** One CSV record on one line (RFC 4180 quoting, no embedded newlines: ids never contain them). */
export function splitCsvLine(text: string): string[] | { error: string } {
  // Most logs never quote; the plain split is several times faster on a 25M-line file.
  if (!text.includes('"')) return text.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') field += text[++i] as string;
      else quoted = false;
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  if (quoted) return { error: 'unterminated quoted field' };
  fields.push(field);
  return fields;
}

interface CsvColumns {
  user: number;
  item: number;
  timestamp: number;
  type: number | undefined;
  width: number;
}

function parseHeader(fields: readonly string[], at: LinePosition): CsvColumns {
  const names = fields.map((name) => name.trim().toLowerCase());
  const find = (aliases: readonly string[]): number | undefined => {
    const index = names.findIndex((name) => aliases.includes(name));
    return index < 0 ? undefined : index;
  };
  const required = (column: 'user' | 'item' | 'timestamp'): number =>
    find(COLUMN_ALIASES[column]) ??
    fail(at, `header lacks a '${column}' column (accepted: ${COLUMN_ALIASES[column].join(', ')}); found '${fields.join(',')}'`);
  return {
    user: required('user'),
    item: required('item'),
    timestamp: required('timestamp'),
    type: find(COLUMN_ALIASES.type),
    width: fields.length,
  };
}

async function loadCsv(path: string, options: LoadOptions): Promise<Interaction[]> {
  const intern = createInterner();
  const at: LinePosition = { file: path, line: 0 };
  const out: Interaction[] = [];
  let columns: CsvColumns | undefined;
  for await (const { line, text } of readNumberedLines(path, options)) {
    at.line = line;
    const fields = splitCsvLine(text);
    if (!Array.isArray(fields)) fail(at, fields.error);
    if (columns === undefined) {
      columns = parseHeader(fields, at);
      continue;
    }
    if (fields.length !== columns.width) fail(at, `expected ${columns.width} fields as in the header, found ${fields.length}`);
    out.push({
      userId: intern(toId(fields[columns.user], 'user', at)),
      itemId: intern(toId(fields[columns.item], 'item', at)),
      type: toType(columns.type === undefined ? undefined : fields[columns.type], at),
      ts: toEpochMs(fields[columns.timestamp], at),
    });
  }
  return sortByTs(out);
}

async function loadJsonl(path: string, options: LoadOptions): Promise<Interaction[]> {
  const intern = createInterner();
  const at: LinePosition = { file: path, line: 0 };
  const out: Interaction[] = [];
  for await (const { line, text } of readNumberedLines(path, options)) {
    at.line = line;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new DatasetFormatError(path, line, `bad JSON: ${(error as Error).message}`, { cause: error });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(at, 'expected a JSON object per line');
    const record = parsed as Record<string, unknown>;
    // Both spellings are accepted: the short one of exported logs and the reco.events one.
    out.push({
      userId: intern(toId(record.user ?? record.userId, 'user', at)),
      itemId: intern(toId(record.item ?? record.itemId, 'item', at)),
      type: toType(record.type, at),
      ts: toEpochMs(record.timestamp ?? record.ts, at),
    });
  }
  return sortByTs(out);
}

/**
 * A `.csv` (header `user,item,timestamp[,type]`, column order free, extra columns ignored) or a
 * `.jsonl`/`.ndjson` file (`{user,item,timestamp,type?}` or `{userId,itemId,ts,type?}`).
 */
export async function loadInteractionsFile(path: string, options: LoadOptions = {}): Promise<Interaction[]> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return loadCsv(path, options);
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return loadJsonl(path, options);
  throw new UnsupportedDatasetError(path);
}
