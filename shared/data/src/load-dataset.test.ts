import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UnsupportedDatasetError } from './dataset-error.js';
import { loadDataset } from './load-dataset.js';
import { smallWorldOptions } from './synthetic-world.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('loadDataset', () => {
  it('builds the synthetic world, pretrain log then stream', async () => {
    const { name, interactions, world } = await loadDataset('synthetic', { world: smallWorldOptions(3) });
    expect(name).toBe('synthetic');
    expect(world).toBeDefined();
    expect(interactions).toEqual([...(world?.pretrainLog ?? []), ...(world?.stream ?? [])]);
  });

  it.each([
    ['ratings.dat', 5],
    ['u.data', 4],
    ['interactions.csv', 5],
    ['interactions.jsonl', 4],
  ])('picks the format of %s from its name', async (file, count) => {
    const dataset = await loadDataset(fixture(file));
    expect(dataset.name).toBe(`fixtures/${file}`);
    expect(dataset.interactions).toHaveLength(count);
    expect(dataset.world).toBeUndefined();
  });

  it('reads a MovieLens-latest ratings.csv with the movies.csv beside it as item metadata', async () => {
    const dataset = await loadDataset(fixture('ml-latest/ratings.csv'));
    expect(dataset.name).toBe('ml-latest/ratings.csv');
    expect(dataset.interactions).toHaveLength(6);
    expect(dataset.items?.size).toBe(4);
    expect(dataset.items?.get('3')).toEqual({ title: 'Lighthouse, The (1998)', categories: ['Drama', 'Mystery'] });
    expect(dataset.items?.get('7789')).toEqual({ title: 'Static (2002)', categories: [] });
  });

  it('takes a folder holding ratings.csv as the same dataset', async () => {
    const fromFolder = await loadDataset(fixture('ml-latest'));
    expect(fromFolder).toEqual(await loadDataset(fixture('ml-latest/ratings.csv')));
  });

  it('passes minRating through to the MovieLens loader', async () => {
    const dataset = await loadDataset(fixture('ml-latest'), { minRating: 4 });
    expect(dataset.interactions.map((e) => e.itemId)).toEqual(['29', '1', '114335']);
  });

  it('recognises the latest layout by its header whatever the file is called, items absent without movies.csv', async () => {
    const dataset = await loadDataset(fixture('ratings-latest.csv'));
    expect(dataset.interactions.map((e) => [e.userId, e.itemId, e.ts])).toEqual([
      ['4', '20', 999999999000],
      ['5', '10', 1000000000000],
    ]);
    expect(dataset).not.toHaveProperty('items');
  });

  it('reports a folder without ratings.csv with the path it looked for', async () => {
    await expect(loadDataset(fixture(''))).rejects.toMatchObject({ code: 'ENOENT', path: fixture('ratings.csv') });
  });

  it('refuses a spec it cannot place', async () => {
    await expect(loadDataset('movies.parquet')).rejects.toBeInstanceOf(UnsupportedDatasetError);
  });
});
