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

  it('refuses a spec it cannot place', async () => {
    await expect(loadDataset('movies.parquet')).rejects.toBeInstanceOf(UnsupportedDatasetError);
  });
});
