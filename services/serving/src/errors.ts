/**
 * The error catalogue of the serving API. Every error a client can receive carries a stable
 * `RECO_ERR_*` code and the HTTP status it is sent with; clients branch on `code`, never on the
 * message. The README lists every code (a test keeps the two in step).
 */
export interface ServingErrorSpec {
  readonly status: number;
  readonly description: string;
}

export const SERVING_ERRORS = {
  RECO_ERR_VALIDATION: { status: 400, description: 'A query, path or body field is invalid; `issues` names each field.' },
  RECO_ERR_INVALID_JSON: { status: 400, description: 'The body is not JSON (or is empty, or has a `__proto__`/`constructor.prototype` key) although the content type says it is.' },
  RECO_ERR_JSON_TOO_DEEP: {
    status: 400,
    description: 'The body nests arrays/objects deeper than 32 levels. POST /v1/events judges each event alone instead: a too-deep event is one invalid event (RECO_ERR_INVALID_EVENTS).',
  },
  RECO_ERR_BAD_URL: { status: 400, description: 'The URL path cannot be decoded (malformed percent-encoding).' },
  RECO_ERR_MALFORMED_REQUEST: { status: 400, description: 'The request is not valid HTTP, or its body does not match its Content-Length.' },
  RECO_ERR_INVALID_EVENTS: {
    status: 400,
    description: 'Some events of a POST /v1/events failed validation: each issue names the index and field. The valid ones were still produced; the invalid ones went to the dead-letter topic.',
  },
  RECO_ERR_UNAUTHORIZED: { status: 401, description: 'The admin route needs an `Authorization: Bearer <token>` header.' },
  RECO_ERR_FORBIDDEN: { status: 403, description: 'The bearer token is wrong (or no admin token is configured, which disables admin routes).' },
  RECO_ERR_NOT_FOUND: { status: 404, description: 'No such route.' },
  RECO_ERR_UNKNOWN_VARIANT: { status: 404, description: 'The named variant is not live on this replica.' },
  RECO_ERR_UNKNOWN_ITEM: { status: 404, description: "The item is neither in the backbone's vocabulary nor written through PUT /v1/items/:itemId." },
  RECO_ERR_NO_PREVIOUS_VERSION: { status: 409, description: 'Rollback asked for, but the variant has no previous version in memory.' },
  RECO_ERR_ROLLBACK_SUPERSEDED: {
    status: 409,
    description: 'A newer snapshot of the variant reached reco.adapters before the rollback record, which every replica then refuses as stale: nothing was rolled back. GET /v1/models shows what answers; roll back again if still wanted.',
  },
  RECO_ERR_REQUEST_TIMEOUT: { status: 408, description: 'The request (headers and body) did not arrive within RECO_HTTP_REQUEST_TIMEOUT_MS; the connection is closed.' },
  RECO_ERR_BODY_TOO_LARGE: { status: 413, description: 'The body is larger than the configured limit (RECO_BODY_LIMIT_BYTES).' },
  RECO_ERR_URI_TOO_LONG: { status: 414, description: 'A path parameter is longer than the router accepts (128 characters).' },
  RECO_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'Bodies must be application/json.' },
  RECO_ERR_HEADERS_TOO_LARGE: { status: 431, description: "The request line and headers together exceed Node's limit (16 KiB); the connection is closed." },
  RECO_ERR_KAFKA_UNAVAILABLE: { status: 503, description: 'Kafka did not acknowledge the produce; nothing was accepted, retry.' },
  RECO_ERR_NOT_READY: { status: 503, description: 'The replica is not ready (backbone, Kafka or snapshot catch-up); `issues` says which.' },
  RECO_ERR_SHUTTING_DOWN: { status: 503, description: 'The replica is shutting down (requests in flight still finish); send this one to another replica.' },
  RECO_ERR_ROLLBACK_TIMEOUT: {
    status: 504,
    description: 'The rollback record was published, but this replica did not apply it within RECO_ROLLBACK_TIMEOUT_MS (its snapshot consumer is behind or reconnecting); it applies when the consumer gets to it. GET /v1/models shows what answers.',
  },
  RECO_ERR_INTERNAL: { status: 500, description: 'An unexpected failure; the log has the cause.' },
} as const satisfies Record<string, ServingErrorSpec>;

export type ServingErrorCode = keyof typeof SERVING_ERRORS;

/** One problem with a request, naming its field the way the client wrote it (`k`, `events[2].ts`). */
export interface FieldIssue {
  field: string;
  message: string;
  /** Index in an events batch, when the issue belongs to one event of it. */
  index?: number;
}

export class ServingError extends Error {
  readonly code: ServingErrorCode;
  readonly statusCode: number;
  readonly issues: FieldIssue[] | undefined;

  constructor(code: ServingErrorCode, message: string, options: { cause?: unknown; issues?: FieldIssue[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServingError';
    this.code = code;
    this.statusCode = SERVING_ERRORS[code].status;
    this.issues = options.issues;
  }
}
