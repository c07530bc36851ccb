export { STREAM_ERRORS, StreamError, isRetriable, type StreamErrorCode, type ErrorSpec } from './errors.js';
export {
  LOG_LEVELS,
  createLogger,
  readLogSettings,
  silentLogger,
  writesPretty,
  type LogDestination,
  type LogLevel,
  type LogSettings,
  type Logger,
  type LoggerOptions,
  type ServiceLogger,
} from './logger.js';
export { readKafkaConfig, type KafkaConfig, type SaslMechanism } from './kafka-config.js';
export {
  AssignerProtocol,
  fastFailingClientFor,
  createKafkaClient,
  type Admin,
  type Consumer,
  type Kafka,
  type KafkaMessage,
  type Message,
  type PartitionAssigner,
  type Producer,
  type RecordMetadata,
} from './kafka-client.js';
export { TRANSIENT_BROKER_ERRORS, isTransientKafkaLog, routeLogsTo } from './kafka-logs.js';
export {
  ADAPTER_SNAPSHOT_MAX_BYTES,
  DEFAULT_TOPIC_NAMES,
  EVENT_MAX_BYTES,
  topicNames,
  topicSpecs,
  type TopicNames,
  type TopicOptions,
  type TopicSpec,
} from './topics.js';
export { ensureTopics, type EnsureTopicsResult } from './ensure-topics.js';
export {
  EVENT_SCHEMA_VERSION,
  EVENT_TYPES,
  MAX_ID_LENGTH,
  decodeEvent,
  encodeEvent,
  formatIssues,
  idIssue,
  validateEvent,
  type EventType,
  type RecoEvent,
  type ValidationIssue,
  type ValidationResult,
} from './event-contract.js';
export { recordSize, sendWithinLimit } from './send-within-limit.js';
export {
  DLQ_HEADERS,
  DeadLetterWriter,
  fromDeadLetterMessage,
  toDeadLetterMessage,
  type DeadLetter,
  type DeadLetterSource,
} from './dead-letter.js';
export { startEventConsumer, type ConsumedEvent, type EventBatch, type EventConsumerOptions } from './event-consumer.js';
export { CONSUMER_BACKOFF, startTopicConsumer, type ConsumerObserver, type TopicBatch, type TopicConsumer, type TopicConsumerOptions } from './topic-consumer.js';
export { consumerNotReadyReason, metricsObserver, type ConsumerHealth, type ConsumerMetrics, type ConsumerState } from './consumer-health.js';
export { KAFKA_VERSION, defaultCacheDir, ensureKafkaJars } from './local-kafka/kafka-jars.js';
export { startLocalKafka, type LocalKafka, type LocalKafkaOptions } from './local-kafka/local-kafka.js';
// Snapshots (format, signature, checks) belong to @reco/model's snapshot owner; stream only carries them.
export { readToEnd } from './read-to-end.js';
export { CatchUp, endOffsetsNow, joinedReader, type CatchingUpReader } from './catch-up.js';
export { START_UP_BACKOFF, backoffDelay, errorSummary, withRetries, type Backoff, type RetryOptions } from './with-retries.js';
export { DebugRequestLogs } from './request-logs.js';
