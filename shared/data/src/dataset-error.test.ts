import { describe, expect, it } from 'vitest';
import { DATA_ERRORS, DatasetFormatError, UnsupportedDatasetError } from './dataset-error.js';

describe('data error catalogue', () => {
  it('documents every code with a RECO_ERR_ name, a status and a description', () => {
    for (const [code, spec] of Object.entries(DATA_ERRORS)) {
      expect(code).toMatch(/^RECO_ERR_[A-Z_]+$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.description.length).toBeGreaterThan(20);
    }
  });

  it('gives each error class a catalogued code', () => {
    const errors = [new DatasetFormatError('f.csv', 2, 'bad'), new UnsupportedDatasetError('x.bin')];
    for (const error of errors) {
      expect(Object.keys(DATA_ERRORS)).toContain(error.code);
      expect(error.status).toBe(DATA_ERRORS[error.code].status);
      expect(error.retriable).toBe(false);
    }
  });

  it('formats the message like a compiler diagnostic', () => {
    const error = new DatasetFormatError('data/x.csv', 12, 'unknown type "like"');
    expect(error.message).toBe('data/x.csv:12: unknown type "like"');
    expect(error.name).toBe('DatasetFormatError');
  });
});
