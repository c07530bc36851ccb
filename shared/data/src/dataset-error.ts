/**
 * The error catalogue of @reco/data, in the same shape as the other packages' catalogues: a stable
 * `RECO_ERR_*` code, an HTTP-ish status and whether retrying can help. A bad dataset never becomes
 * good by retrying, so none of these are retriable.
 */
export interface DataErrorSpec {
  readonly status: number;
  readonly retriable: boolean;
  readonly description: string;
}

export const DATA_ERRORS = {
  RECO_ERR_DATASET_FORMAT: {
    status: 400,
    retriable: false,
    description: 'A dataset file has a malformed line; the file, the 1-based line number and the reason are named.',
  },
  RECO_ERR_DATASET_UNSUPPORTED: {
    status: 400,
    retriable: false,
    description: "A dataset spec is neither 'synthetic' nor a file whose name says its format (ratings.dat, u.data, .csv, .jsonl).",
  },
} as const satisfies Record<string, DataErrorSpec>;

export type DataErrorCode = keyof typeof DATA_ERRORS;

/** A malformed line in a dataset file. The message reads `${file}:${line}: ${reason}`, like a compiler's. */
export class DatasetFormatError extends Error {
  readonly code = 'RECO_ERR_DATASET_FORMAT' satisfies DataErrorCode;
  readonly status = DATA_ERRORS.RECO_ERR_DATASET_FORMAT.status;
  readonly retriable = false;
  readonly file: string;
  /** 1-based, counting every physical line including skipped empty ones, so editors agree with it. */
  readonly line: number;
  readonly reason: string;

  constructor(file: string, line: number, reason: string, options?: { cause?: unknown }) {
    super(`${file}:${line}: ${reason}`, options);
    this.name = 'DatasetFormatError';
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** A dataset spec whose format cannot be told from its name. */
export class UnsupportedDatasetError extends Error {
  readonly code = 'RECO_ERR_DATASET_UNSUPPORTED' satisfies DataErrorCode;
  readonly status = DATA_ERRORS.RECO_ERR_DATASET_UNSUPPORTED.status;
  readonly retriable = false;
  readonly spec: string;

  constructor(spec: string) {
    super(
      `cannot tell the format of dataset '${spec}': use 'synthetic', a MovieLens ratings.dat or u.data, ` +
        'or an interactions file ending in .csv or .jsonl',
    );
    this.name = 'UnsupportedDatasetError';
    this.spec = spec;
  }
}
