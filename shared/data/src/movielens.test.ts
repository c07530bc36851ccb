import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetFormatError } from './dataset-error.js';
import type { LoadProgress } from './file-lines.js';
import { loadMovieLens100k, loadMovieLensRatings } from './movielens.js';

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
