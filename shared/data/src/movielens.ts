import { DatasetFormatError } from './dataset-error.js';
import { createNumericInterner, readNumberedLines, type LinePosition, type LoadOptions } from './file-lines.js';
import { sortByTs, type Interaction } from './interaction.js';
import { splitCsvLine } from './interactions-file.js';
import type { ItemMetadata } from './item-metadata.js';

/**
 * MovieLens logs explicit ratings, but for next-item recommendation the act of rating is the
 * signal (the common SASRec/BERT4Rec protocol), so every rating becomes a 'click' whatever its
 * value. Ids keep their MovieLens numbers as decimal strings, so they stay joinable with
 * movies.dat and movies.csv.
 */

const ID = /^\d+$/;
const RATING = /^\d+(\.\d+)?$/;

/** The first line of a MovieLens latest/20M/25M `ratings.csv`. */
export const MOVIELENS_LATEST_HEADER = 'userId,movieId,rating,timestamp';
const MOVIES_HEADER = 'movieId,title,genres';
const NO_GENRES = '(no genres listed)';

export interface MovieLensLoadOptions extends LoadOptions {
  /**
   * Keep only ratings >= this, for protocols that count only liked movies as positives (4 is
   * common). By default every rating is kept, low ones included.
   */
  minRating?: number;
}

function fail(at: LinePosition, reason: string): never {
  throw new DatasetFormatError(at.file, at.line, reason);
}

/** Shared with the loader's sniffing, so a file recognised as the latest layout also passes its header check. */
export function isMovieLensLatestHeader(line: string): boolean {
  return line.trim() === MOVIELENS_LATEST_HEADER;
}

function checkHeader(text: string, header: string, at: LinePosition): void {
  if (text.trim() !== header) fail(at, `expected the header '${header}', found '${text}'`);
}

function checkMinRating(minRating: number | undefined): number | undefined {
  // NaN would compare false against every rating and silently yield an empty dataset.
  if (minRating !== undefined && !Number.isFinite(minRating)) throw new RangeError(`minRating must be a finite number, got ${minRating}`);
  return minRating;
}

function parseRating(
  fields: readonly string[],
  at: LinePosition,
  intern: (digits: string) => string,
  minRating: number | undefined,
): Interaction | undefined {
  if (fields.length !== 4) fail(at, `expected 4 fields (user, item, rating, timestamp), found ${fields.length}`);
  const user = (fields[0] as string).trim();
  const item = (fields[1] as string).trim();
  const rating = (fields[2] as string).trim();
  const timestamp = (fields[3] as string).trim();
  if (!ID.test(user)) fail(at, `user id '${user}' is not a non-negative integer`);
  if (!ID.test(item)) fail(at, `item id '${item}' is not a non-negative integer`);
  if (!RATING.test(rating)) fail(at, `rating '${rating}' is not a number`);
  if (!ID.test(timestamp)) fail(at, `timestamp '${timestamp}' is not a non-negative integer (seconds)`);
  if (minRating !== undefined && Number(rating) < minRating) return undefined;
  return { userId: intern(user), itemId: intern(item), type: 'click', ts: Number(timestamp) * 1000 };
}

async function loadDelimited(path: string, separator: string, header: string | undefined, options: MovieLensLoadOptions): Promise<Interaction[]> {
  const minRating = checkMinRating(options.minRating);
  const intern = createNumericInterner();
  const at: LinePosition = { file: path, line: 0 };
  const out: Interaction[] = [];
  let pendingHeader = header;
  for await (const { line, text } of readNumberedLines(path, options)) {
    at.line = line;
    if (pendingHeader !== undefined) {
      checkHeader(text, pendingHeader, at);
      pendingHeader = undefined;
      continue;
    }
    const event = parseRating(text.split(separator), at, intern, minRating);
    if (event !== undefined) out.push(event);
  }
  if (pendingHeader !== undefined) fail({ file: path, line: 1 }, `empty file, expected the header '${pendingHeader}'`);
  return sortByTs(out);
}

/** MovieLens 1M/10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, timestamp in seconds. */
export async function loadMovieLensRatings(path: string, options: MovieLensLoadOptions = {}): Promise<Interaction[]> {
  return loadDelimited(path, '::', undefined, options);
}

/** MovieLens 100k `u.data`: `user<TAB>item<TAB>rating<TAB>timestamp`, no header, timestamp in seconds. */
export async function loadMovieLens100k(path: string, options: MovieLensLoadOptions = {}): Promise<Interaction[]> {
  return loadDelimited(path, '\t', undefined, options);
}

/**
 * MovieLens latest/20M/25M `ratings.csv`: the header `userId,movieId,rating,timestamp`, then one
 * unquoted rating per line, timestamp in seconds. The header is required: without it a file in
 * some other CSV layout would be read as ratings.
 */
export async function loadMovieLensLatest(ratingsPath: string, options: MovieLensLoadOptions = {}): Promise<Interaction[]> {
  return loadDelimited(ratingsPath, ',', MOVIELENS_LATEST_HEADER, options);
}

/**
 * MovieLens latest/20M/25M `movies.csv`: the header `movieId,title,genres`, titles quoted when
 * they hold a comma, genres `A|B|C` or `(no genres listed)`. Keyed by the same canonical id
 * strings as the ratings loaders produce.
 */
export async function loadMovieLensMovies(moviesPath: string, options: LoadOptions = {}): Promise<Map<string, ItemMetadata>> {
  const intern = createNumericInterner();
  const at: LinePosition = { file: moviesPath, line: 0 };
  const movies = new Map<string, ItemMetadata>();
  let awaitingHeader = true;
  for await (const { line, text } of readNumberedLines(moviesPath, options)) {
    at.line = line;
    if (awaitingHeader) {
      checkHeader(text, MOVIES_HEADER, at);
      awaitingHeader = false;
      continue;
    }
    const fields = splitCsvLine(text);
    if (!Array.isArray(fields)) fail(at, fields.error);
    if (fields.length !== 3) fail(at, `expected 3 fields (movieId, title, genres), found ${fields.length}; quote a title that holds a comma`);
    const id = (fields[0] as string).trim();
    if (!ID.test(id)) fail(at, `movie id '${id}' is not a non-negative integer`);
    const movieId = intern(id);
    // A second entry would silently replace the first, and which one is right cannot be told.
    if (movies.has(movieId)) fail(at, `movie id ${movieId} is listed twice`);
    const genres = (fields[2] as string).trim();
    movies.set(movieId, { title: (fields[1] as string).trim(), categories: genres === NO_GENRES || genres === '' ? [] : genres.split('|') });
  }
  if (awaitingHeader) fail({ file: moviesPath, line: 1 }, `empty file, expected the header '${MOVIES_HEADER}'`);
  return movies;
}
