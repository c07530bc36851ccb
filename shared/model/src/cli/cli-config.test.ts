import { describe, expect, it } from 'vitest';
import { intOption, parseCli, readCliEnvironment } from './cli-config.js';
import { defaultBackboneDir } from './dataset-split.js';

describe('CLI configuration', () => {
  it('reads RECO_TF_BACKEND once and rejects an unknown backend', () => {
    expect(readCliEnvironment({})).toEqual({});
    expect(readCliEnvironment({ RECO_TF_BACKEND: 'cpu' })).toEqual({ backend: 'cpu' });
    expect(() => readCliEnvironment({ RECO_TF_BACKEND: 'webgpu' })).toThrow(/RECO_TF_BACKEND must be one of/);
  });

  it('parses flags strictly and validates numbers', () => {
    const spec = { data: { type: 'string' as const, default: 'synthetic' }, json: { type: 'boolean' as const, default: false } };
    expect(parseCli(['--data', 'x.csv', '--json'], spec, 'usage')).toEqual({ data: 'x.csv', json: true });
    expect(() => parseCli(['--nope'], spec, 'usage: x')).toThrow(/nope[\s\S]*usage: x/);
    expect(intOption('3', 'epochs', 1)).toBe(3);
    expect(intOption(undefined, 'epochs', 7)).toBe(7);
    expect(() => intOption('0', 'epochs', 1)).toThrow(/--epochs/);
  });

  it('names the default checkpoint folder after the data set', () => {
    expect(defaultBackboneDir('synthetic')).toBe('.cache/backbones/synthetic');
    expect(defaultBackboneDir('/data/ml-1m/ratings.dat')).toBe('.cache/backbones/ratings.dat');
  });
});
