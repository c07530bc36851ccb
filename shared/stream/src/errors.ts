/**
 * The error catalogue of @reco/stream. Every failure this package raises on purpose carries a stable
 * `RECO_ERR_*` code, an HTTP-ish status for the services that surface it, and whether retrying the
 * same operation can succeed. Callers branch on `code` and `retriable`, never on message text.
 */
export interface ErrorSpec {
  readonly status: number;
  readonly retriable: boolean;
  readonly description: string;
}

export const STREAM_ERRORS = {
  RECO_ERR_KAFKA_CONFIG: {
    status: 500,
    retriable: false,
    description: 'Kafka client configuration is missing or contradictory (brokers, SASL, SSL).',
  },
  RECO_ERR_MESSAGE_TOO_LARGE: {
    status: 413,
    retriable: false,
    description: "A message is larger than its topic's max.message.bytes; the limit is named in the message.",
  },
  RECO_ERR_TOPIC_SETUP: {
    status: 500,
    retriable: true,
    description: 'Creating or reconfiguring a topic failed.',
  },
  RECO_ERR_KAFKA_UNAVAILABLE: {
    status: 503,
    retriable: true,
    description: 'The Kafka cluster could not be reached or did not answer in time.',
  },
  RECO_ERR_BROKER_JARS: {
    status: 500,
    retriable: true,
    description: 'Maven could not fetch the Apache Kafka broker jars into the cache folder.',
  },
  RECO_ERR_BROKER_START: {
    status: 500,
    retriable: false,
    description: 'The local Kafka broker did not start (Java missing or too old, port taken, bad config); the log tail is included.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type StreamErrorCode = keyof typeof STREAM_ERRORS;

export class StreamError extends Error {
  readonly code: StreamErrorCode;
  readonly status: number;
  readonly retriable: boolean;

  constructor(code: StreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamError';
    this.code = code;
    this.status = STREAM_ERRORS[code].status;
    this.retriable = STREAM_ERRORS[code].retriable;
  }
}

/**
 * One place decides whether a failure is worth retrying. KafkaJS marks its own errors with
 * `retriable`; connection-level Node errors are transient; anything else is not.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof StreamError) return error.retriable;
  if (typeof error === 'object' && error !== null) {
    const candidate = error as { retriable?: unknown; code?: unknown };
    if (typeof candidate.retriable === 'boolean') return candidate.retriable;
    if (typeof candidate.code === 'string') {
      return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(candidate.code);
    }
  }
  return false;
}
