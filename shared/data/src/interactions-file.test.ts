import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetFormatError, UnsupportedDatasetError } from './dataset-error.js';
import { loadInteractionsFile, splitCsvLine } from './interactions-file.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('loadInteractionsFile (CSV)', () => {
  it('parses quoting, types, CRLF, and seconds or milliseconds per value, in time order', async () => {
    expect(await loadInteractionsFile(fixture('interactions.csv'))).toEqual([
      { userId: 'bob', itemId: 'sku-2', type: 'view', ts: 1699999999500 },
      { userId: 'alice', itemId: 'sku-1', type: 'click', ts: 1700000000000 },
      { userId: 'carol, jr', itemId: 'sku-3', type: 'purchase', ts: 1700000000000 },
      { userId: 'bob', itemId: 'sku "5"', type: 'click', ts: 1700000050250 },
      { userId: 'alice', itemId: 'sku-4', type: 'click', ts: 1700000100000 },
    ]);
  });

  it('finds columns by header name in any order, accepting MovieLens 25M names', async () => {
    expect(await loadInteractionsFile(fixture('reordered-columns.csv'))).toEqual([
      { userId: '2', itemId: '11', type: 'click', ts: 1500000000000 },
      { userId: '1', itemId: '10', type: 'click', ts: 1600000000000 },
    ]);
  });

  it('ignores a byte-order mark before the header', async () => {
    expect(await loadInteractionsFile(fixture('bom.csv'))).toEqual([{ userId: 'x', itemId: 'y', type: 'click', ts: 1700000000000 }]);
  });
});

describe('loadInteractionsFile (JSONL)', () => {
  it('accepts both field spellings, numeric ids and string timestamps', async () => {
    expect(await loadInteractionsFile(fixture('interactions.jsonl'))).toEqual([
      { userId: 'u2', itemId: 'i2', type: 'purchase', ts: 1699999999000 },
      { userId: 'u1', itemId: 'i1', type: 'click', ts: 1700000000000 },
      { userId: 'u1', itemId: 'i3', type: 'click', ts: 1700000000000 },
      { userId: '7', itemId: '42', type: 'view', ts: 1700000001000 },
    ]);
  });
});

describe('malformed interaction files', () => {
  const cases: [string, number, RegExp][] = [
    ['missing-column.csv', 1, /header lacks a 'item' column/],
    ['unknown-type.csv', 3, /unknown type "like"/],
    ['wrong-field-count.csv', 3, /expected 3 fields as in the header, found 2/],
    ['bad-timestamp.csv', 5, /timestamp "soon" is not a non-negative number/],
    ['unterminated-quote.csv', 2, /unterminated quoted field/],
    ['bad-json.jsonl', 2, /bad JSON/],
    ['unknown-type.jsonl', 2, /unknown type "rating"/],
    ['not-an-object.jsonl', 2, /expected a JSON object/],
    ['missing-item.jsonl', 2, /item id undefined is missing/],
  ];
  it.each(cases)('%s fails at line %i', async (name, line, reason) => {
    const file = fixture(name);
    const error = await loadInteractionsFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetFormatError);
    const formatError = error as DatasetFormatError;
    expect(formatError.file).toBe(file);
    expect(formatError.line).toBe(line);
    expect(formatError.reason).toMatch(reason);
    expect(formatError.message.startsWith(`${file}:${line}: `)).toBe(true);
  });

  it('refuses a file whose extension says nothing', async () => {
    await expect(loadInteractionsFile(fixture('ratings.dat'))).rejects.toBeInstanceOf(UnsupportedDatasetError);
  });
});

describe('splitCsvLine', () => {
  it('handles quotes, escaped quotes and empty fields', () => {
    expect(splitCsvLine('a,"b,c","d ""e""",,')).toEqual(['a', 'b,c', 'd "e"', '', '']);
    expect(splitCsvLine('"open')).toEqual({ error: 'unterminated quoted field' });
  });
});
