import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from './kafka-config.js';
import { routeLogsTo } from './kafka-logs.js';
import type { Logger } from './logger.js';

// Services reach Kafka only through this package; these are the KafkaJS shapes they handle.
export type { Admin, Consumer, Kafka, KafkaMessage, Message, PartitionAssigner, Producer, RecordMetadata } from 'kafkajs';
// A custom assigner's wire format (the updater's lease assigner).
export { AssignerProtocol } from 'kafkajs';

/**
 * Requests of admins and producers: a leader election or a coordinator that is still loading
 * usually settles within this budget (about 20 s: 200 ms doubling to 5 s, 8 retries).
 */
const REQUEST_RETRY: RetryOptions = { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 };

/**
 * Connections of fastFailingClientFor's client: one quick retry, then a consumer crashes and
 * the seam (topic-consumer.ts) reports `reconnecting` and reconnects with its own capped backoff,
 * forever. With REQUEST_RETRY a consumer whose broker died sat for ~20 s in KafkaJS's internal
 * retries looking healthy (measured with kill -9 of the local broker), then crashed anyway.
 */
const CONSUMER_CONNECTION_RETRY: RetryOptions = { retries: 1, initialRetryTime: 300, maxRetryTime: 1000 };

/** Each client made here knows how to make its consumer sibling: same brokers, credentials and logs. */
const consumerSiblings = new WeakMap<Kafka, () => Kafka>();

/**
 * Builds the KafkaJS client from validated config. KafkaJS's own log lines are routed into the
 * caller's structured logger (kafka-logs.ts: with their namespace, transient start-up noise at debug).
 */
export function createKafkaClient(config: KafkaConfig, logger: Logger, options: { retries?: number } = {}): Kafka {
  const kafkaJsConfig: KafkaJsConfig = {
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: logLevel.INFO,
    logCreator: routeLogsTo(logger),
  };
  if (config.ssl !== false) kafkaJsConfig.ssl = config.ssl === true ? true : { ca: [config.ssl.ca] };
  if (config.sasl) kafkaJsConfig.sasl = toKafkaJsSasl(config.sasl);
  const kafka = new Kafka({ ...kafkaJsConfig, retry: { ...REQUEST_RETRY, ...(options.retries === undefined ? {} : { retries: options.retries }) } });
  let sibling: Kafka | undefined;
  consumerSiblings.set(kafka, () => (sibling ??= new Kafka({ ...kafkaJsConfig, retry: CONSUMER_CONNECTION_RETRY })));
  return kafka;
}

/**
 * The same cluster through a client that gives up on a lost connection within about a second:
 * for the consumer seam's consumers and lag probe (the seam reconnects them itself) and for
 * readiness probes (which must answer now, not after 20 s of retries). KafkaJS takes the
 * connection retry budget from the client, not from the consumer or admin, hence a client of its
 * own. A client made elsewhere (a test's plain `new Kafka`) is returned as it is.
 */
export function fastFailingClientFor(kafka: Kafka): Kafka {
  return consumerSiblings.get(kafka)?.() ?? kafka;
}

function toKafkaJsSasl(sasl: NonNullable<KafkaConfig['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}
