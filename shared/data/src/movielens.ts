import { DatasetFormatError } from './dataset-error.js';
import { createNumericInterner, readNumberedLines, type LinePosition, type LoadOptions } from './file-lines.js';
import { sortByTs, type Interaction } from './interaction.js';

/**
 * MovieLens logs explicit ratings, but for next-item recommendation the act of rating is the
 * signal (the common SASRec/BERT4Rec protocol), so every rating becomes a 'click' whatever its
 * value. Ids keep their MovieLens numbers as decimal strings, so they stay joinable with movies.dat.
 */

const ID = /^\d+$/;
const RATING = /^\d+(\.\d+)?$/;

function fail(at: LinePosition, reason: string): never {
  throw new DatasetFormatError(at.file, at.line, reason);
}

function parseRating(fields: readonly string[], at: LinePosition, intern: (digits: string) => string): Interaction {
  if (fields.length !== 4) fail(at, `expected 4 fields (user, item, rating, timestamp), found ${fields.length}`);
  const user = (fields[0] as string).trim();
  const item = (fields[1] as string).trim();
  const rating = (fields[2] as string).trim();
  const timestamp = (fields[3] as string).trim();
  if (!ID.test(user)) fail(at, `user id '${user}' is not a non-negative integer`);
  if (!ID.test(item)) fail(at, `item id '${item}' is not a non-negative integer`);
  if (!RATING.test(rating)) fail(at, `rating '${rating}' is not a number`);
  if (!ID.test(timestamp)) fail(at, `timestamp '${timestamp}' is not a non-negative integer (seconds)`);
  return { userId: intern(user), itemId: intern(item), type: 'click', ts: Number(timestamp) * 1000 };
}

async function loadDelimited(path: string, separator: string, options: LoadOptions): Promise<Interaction[]> {
  const intern = createNumericInterner();
  const at: LinePosition = { file: path, line: 0 };
  const out: Interaction[] = [];
  for await (const { line, text } of readNumberedLines(path, options)) {
    at.line = line;
    out.push(parseRating(text.split(separator), at, intern));
  }
  return sortByTs(out);
}

/** MovieLens 1M/10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, timestamp in seconds. */
export async function loadMovieLensRatings(path: string, options: LoadOptions = {}): Promise<Interaction[]> {
  return loadDelimited(path, '::', options);
}

/** MovieLens 100k `u.data`: `user<TAB>item<TAB>rating<TAB>timestamp`, no header, timestamp in seconds. */
export async function loadMovieLens100k(path: string, options: LoadOptions = {}): Promise<Interaction[]> {
  return loadDelimited(path, '\t', options);
}
