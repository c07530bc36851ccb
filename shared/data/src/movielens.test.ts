import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetFormatError } from './dataset-error.js';
import type { LoadProgress } from './file-lines.js';
import { loadMovieLens100k, loadMovieLensLatest, loadMovieLensMovies, loadMovieLensRatings } from './movielens.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('loadMovieLensRatings', () => {
  it('reads ratings.dat as clicks in time order, seconds -> ms, equal ts in file order', async () => {
    const events = await loadMovieLensRatings(fixture('ratings.dat'));
    expect(events).toEqual([
      { userId: '2', itemId: '3068', type: 'click', ts: 978299000000 },
      { userId: '1', itemId: '1193', type: 'click', ts: 978300760000 },
      { userId: '2', itemId: '1357', type: 'click', ts: 978300760000 },
      { userId: '3', itemId: '1', type: 'click', ts: 978301000000 },
      { userId: '1', itemId: '661', type: 'click', ts: 978302109000 },
    ]);
  });

  it('reports progress, finishing at the full file size', async () => {
    const file = fixture('ratings.dat');
    const reports: LoadProgress[] = [];
    await loadMovieLensRatings(file, { onProgress: (progress) => reports.push(progress) });
    const size = statSync(file).size;
    expect(reports.at(-1)).toEqual({ lines: 6, bytesRead: size, totalBytes: size });
  });

  it('names the file and the 1-based line of a short line', async () => {
    const file = fixture('ratings-wrong-field-count.dat');
    const error = await loadMovieLensRatings(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect(error).toMatchObject({ file, line: 3, code: 'RECO_ERR_DATASET_FORMAT' });
    expect((error as DatasetFormatError).message).toBe(`${file}:3: expected 4 fields (user, item, rating, timestamp), found 3`);
  });

  it('counts blank lines when numbering a bad timestamp', async () => {
    const file = fixture('ratings-bad-timestamp.dat');
    await expect(loadMovieLensRatings(file)).rejects.toMatchObject({ file, line: 3, reason: expect.stringMatching(/timestamp 'yesterday'/) as unknown });
  });

  it('rejects a missing file with the system error', async () => {
    await expect(loadMovieLensRatings(fixture('no-such-file.dat'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('loadMovieLens100k', () => {
  it('reads tab-separated u.data in time order', async () => {
    const events = await loadMovieLens100k(fixture('u.data'));
    expect(events.map((e) => [e.userId, e.itemId, e.ts])).toEqual([
      ['22', '377', 878887116000],
      ['196', '242', 881250949000],
      ['196', '51', 881250949000],
      ['186', '302', 891717742000],
    ]);
    expect(events.every((e) => e.type === 'click')).toBe(true);
  });

  it('rejects a non-numeric user id with its line', async () => {
    const file = fixture('u-bad-user.data');
    await expect(loadMovieLens100k(file)).rejects.toMatchObject({ file, line: 2, reason: "user id 'abc' is not a non-negative integer" });
  });
});

describe('loadMovieLensLatest', () => {
  it('reads ratings.csv after its header as clicks in time order, seconds -> ms', async () => {
    const events = await loadMovieLensLatest(fixture('ml-latest/ratings.csv'));
    expect(events).toEqual([
      { userId: '2', itemId: '29', type: 'click', ts: 964980000000 },
      { userId: '1', itemId: '3', type: 'click', ts: 964981247000 },
      { userId: '3', itemId: '1', type: 'click', ts: 964982000000 },
      { userId: '1', itemId: '1', type: 'click', ts: 964982703000 },
      { userId: '2', itemId: '7789', type: 'click', ts: 964983000000 },
      { userId: '3', itemId: '114335', type: 'click', ts: 964990000000 },
    ]);
  });

  it('keeps only ratings at or above minRating', async () => {
    const events = await loadMovieLensLatest(fixture('ml-latest/ratings.csv'), { minRating: 3 });
    expect(events.map((e) => `${e.userId}:${e.itemId}`)).toEqual(['2:29', '1:1', '2:7789', '3:114335']);
  });

  it('applies minRating to the other MovieLens layouts too', async () => {
    const events = await loadMovieLensRatings(fixture('ratings.dat'), { minRating: 4 });
    expect(events.map((e) => e.itemId)).toEqual(['3068', '1193', '1357']);
  });

  it('refuses a minRating that would compare false against every rating', async () => {
    await expect(loadMovieLensLatest(fixture('ml-latest/ratings.csv'), { minRating: Number.NaN })).rejects.toThrow(RangeError);
  });

  it('names the file and the line of a wrong header, blank lines counted', async () => {
    const file = fixture('ratings-latest-wrong-header.csv');
    const error = await loadMovieLensLatest(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as DatasetFormatError).message).toBe(
      `${file}:2: expected the header 'userId,movieId,rating,timestamp', found 'user_id,movie_id,rating,timestamp'`,
    );
  });

  it('refuses another CSV layout instead of reading its columns as ratings', async () => {
    const file = fixture('interactions.csv');
    await expect(loadMovieLensLatest(file)).rejects.toMatchObject({ file, line: 1, reason: expect.stringMatching(/^expected the header/) as unknown });
  });

  it('names the line of a bad rating', async () => {
    const file = fixture('ratings-latest-bad-rating.csv');
    await expect(loadMovieLensLatest(file)).rejects.toMatchObject({ file, line: 3, reason: "rating 'four' is not a number" });
  });
});

describe('loadMovieLensMovies', () => {
  it('reads titles, quoted ones included, and splits genres', async () => {
    const movies = await loadMovieLensMovies(fixture('ml-latest/movies.csv'));
    expect([...movies]).toEqual([
      ['1', { title: 'Paper Boats (1995)', categories: ['Adventure', 'Animation', 'Children'] }],
      ['3', { title: 'Lighthouse, The (1998)', categories: ['Drama', 'Mystery'] }],
      ['29', { title: 'Quote "Unquote" (2001)', categories: ['Comedy'] }],
      ['7789', { title: 'Static (2002)', categories: [] }],
    ]);
  });

  it('points at an unquoted title holding a comma', async () => {
    const file = fixture('movies-unquoted-comma.csv');
    await expect(loadMovieLensMovies(file)).rejects.toMatchObject({ file, line: 3, reason: 'expected 3 fields (movieId, title, genres), found 4; quote a title that holds a comma' });
  });

  it('refuses a movie listed twice, naming the second line', async () => {
    const file = fixture('movies-duplicate-id.csv');
    await expect(loadMovieLensMovies(file)).rejects.toMatchObject({ file, line: 4, reason: 'movie id 1 is listed twice' });
  });

  it('checks the header', async () => {
    const file = fixture('ml-latest/ratings.csv');
    await expect(loadMovieLensMovies(file)).rejects.toMatchObject({ file, line: 1, reason: expect.stringMatching(/'movieId,title,genres'/) as unknown });
  });
});
