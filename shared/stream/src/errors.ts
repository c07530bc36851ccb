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

/** Programming errors: retrying the same code path can only fail the same way. */
const BUGS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

/**
 * KafkaJS errors that mean "the cluster is not (yet) answering", whatever KafkaJS's own flag says:
 * during a broker restart the group coordinator is missing for a while (KafkaJS marks
 * KafkaJSGroupCoordinatorNotFound non-retriable) and metadata locks time out (KafkaJSLockTimeout).
 */
const TRANSIENT_KAFKAJS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
]);

/**
 * Group-membership answers that KafkaJS flags non-retriable because the same request cannot
 * succeed, although joining the group again does: after a coordinator restart the old member
 * id and generation are gone. A consumer restart is exactly "join again".
 */
const REJOIN_FIXES = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);

/** Node socket errors: the peer is gone or not there yet. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);

/** KafkaJS wrappers that only say "the retries ran out" or "gave up": their cause decides. */
const WRAPPERS = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError']);

/**
 * One place decides whether a failure is worth retrying, for the retry helper and the consumer
 * crash policy alike. KafkaJS wraps the real cause (a refused connection) in
 * KafkaJSNumberOfRetriesExceeded or KafkaJSNonRetriableError, both flagged `retriable: false`;
 * reading only that outer flag is what made every consumer give up for good after a broker
 * restart. So the chain of causes is read as a whole:
 *   1. a programming error anywhere in it is never retried;
 *   2. a StreamError that says "not retriable" is this package's deliberate verdict and stands;
 *   3. otherwise the innermost error with an opinion decides (a connection error, a protocol
 *      error's own flag, a StreamError's code), so wrappers never override their cause.
 */
export function isRetriable(error: unknown): boolean {
  const chain = causeChain(error);
  if (chain.some((e) => BUGS.has(e.name ?? ''))) return false;
  if (chain.some((e) => e instanceof StreamError && !e.retriable)) return false;
  for (const e of chain.reverse()) {
    const opinion = ownOpinion(e);
    if (opinion !== undefined) return opinion;
  }
  return false;
}

interface ErrorLike {
  name?: string;
  type?: unknown;
  code?: unknown;
  retriable?: unknown;
  errors?: unknown;
}

function causeChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  for (let e: unknown = error; typeof e === 'object' && e !== null && chain.length < 10 && !chain.includes(e); ) {
    chain.push(e);
    const next = e as { cause?: unknown; originalError?: unknown };
    e = next.cause ?? next.originalError;
  }
  return chain;
}

function ownOpinion(e: ErrorLike): boolean | undefined {
  const name = e.name ?? '';
  if (TRANSIENT_KAFKAJS.has(name)) return true;
  if (typeof e.type === 'string' && REJOIN_FIXES.has(e.type)) return true;
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
  // KafkaJSAggregateError (several brokers failed at once): retriable only if every part is.
  if (Array.isArray(e.errors) && e.errors.length > 0) return e.errors.every((part) => isRetriable(part));
  if (WRAPPERS.has(name)) return undefined;
  if (typeof e.retriable === 'boolean') return e.retriable;
  return undefined;
}
