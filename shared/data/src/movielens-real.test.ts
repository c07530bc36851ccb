import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './load-dataset.js';
import { loadMovieLensLatest, loadMovieLensMovies } from './movielens.js';

// The licence keeps MovieLens out of the repo, so the test reads the copy in the `shared` folder
// beside it and skips, saying so, on a machine that does not have one.
const ratingsPath = fileURLToPath(new URL('../../../../shared/data/movielens-latest-small/ratings.csv', import.meta.url));
const moviesPath = fileURLToPath(new URL('../../../../shared/data/movielens-latest-small/movies.csv', import.meta.url));
const present = existsSync(ratingsPath) && existsSync(moviesPath);
if (!present) console.warn(`skipping the real MovieLens latest-small tests: ${dirname(ratingsPath)} is absent or incomplete`);

/**
 * The published ml-latest-small has 100,836 ratings by 610 users of 9,724 movies (its README),
 * and movies.csv lists 9,742 movies. A copy may differ slightly (the one this was written
 * against has one more line, `999,999999,5.0,1493846415`, whose movie is not in movies.csv), so
 * the exact expectations are counted here with a naive split of the file, independently of the
 * loader, and held within a few lines of the published figures.
 */
function naiveCounts(): { ratings: number; users: number; movies: number } {
  const lines = readFileSync(ratingsPath, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  const fields = lines.map((l) => l.split(','));
  return { ratings: lines.length, users: new Set(fields.map((f) => f[0])).size, movies: new Set(fields.map((f) => f[1])).size };
}
const counts = present ? naiveCounts() : { ratings: 0, users: 0, movies: 0 };
const RATINGS = counts.ratings;
const USERS = counts.users;
const RATED_MOVIES = counts.movies;
const MOVIES = 9_742;

describe.skipIf(!present)('MovieLens latest-small, the real files', () => {
  it('is the published data set, give or take a line', () => {
    expect(Math.abs(RATINGS - 100_836)).toBeLessThanOrEqual(5);
    expect(Math.abs(USERS - 610)).toBeLessThanOrEqual(5);
    expect(Math.abs(RATED_MOVIES - 9_724)).toBeLessThanOrEqual(5);
  });

  it('loads every rating as a click, sorted by time', async () => {
    const events = await loadMovieLensLatest(ratingsPath);
    expect(events).toHaveLength(RATINGS);
    expect(new Set(events.map((e) => e.userId)).size).toBe(USERS);
    expect(new Set(events.map((e) => e.itemId)).size).toBe(RATED_MOVIES);
    expect(events.every((e, i) => i === 0 || e.ts >= (events[i - 1]?.ts ?? 0))).toBe(true);
    expect(events.every((e) => e.type === 'click')).toBe(true);
  });

  it('reads movies.csv, quoted titles included', async () => {
    const movies = await loadMovieLensMovies(moviesPath);
    expect(movies.size).toBe(MOVIES);
    expect(movies.get('1')).toEqual({ title: 'Toy Story (1995)', categories: ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy'] });
  });

  it('loads the folder as one dataset with its movies as item metadata', async () => {
    const dataset = await loadDataset(dirname(ratingsPath));
    expect(dataset.name).toBe('movielens-latest-small/ratings.csv');
    expect(dataset.interactions).toHaveLength(RATINGS);
    expect(dataset.items?.size).toBe(MOVIES);
  });
});
