import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from './logger.js';

/**
 * Broker answers that mean "not settled yet": a broker that has just started (or restarted) gives
 * them until its controller has elected leaders and its group coordinator has loaded. KafkaJS
 * retries every one of them itself, and our own code reports what does not heal: withRetries
 * warns when a start-up call keeps failing, the consumer seam warns "consumer lost Kafka", the
 * readiness probe says "Kafka unreachable". KafkaJS logs each attempt at error level, so a healthy
 * start printed a dozen alarming lines. These are the protocol's messages for
 * UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_FOR_PARTITION,
 * GROUP_LOAD_IN_PROGRESS, GROUP_COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR_FOR_GROUP and
 * NOT_CONTROLLER (kafka-logs.test.ts checks them against KafkaJS's own error table).
 */
export const TRANSIENT_BROKER_ERRORS: readonly string[] = [
  'This server does not host this topic-partition',
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'This server is not the leader for that topic-partition',
  "The coordinator is loading and hence can't process requests for this group",
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
  'This is not the correct controller for this cluster',
];

/** KafkaJS's line when a producer is made without `createPartitioner`: advice about upgrading from v1, not a problem. */
const PARTITIONER_WARNING = 'KafkaJS v2.0.0 switched default partitioner';

/** A refused TCP connection: the broker is not listening (yet, or again); the retry and the seam deal with it. */
const CONNECTION_REFUSED = /ECONNREFUSED/;

/**
 * KafkaJS's line for a CreateTopics answer with any per-topic error. It names no error code, and
 * it is always redundant: when two services create the same topics at the same moment (serving
 * and the updater at start) the loser's answer is TOPIC_ALREADY_EXISTS, which KafkaJS's admin
 * turns into `false`, not a failure; any other refusal fails ensureTopics with
 * RECO_ERR_TOPIC_SETUP and the cause, which the service reports itself.
 */
const CREATE_TOPICS_RESPONSE = /^Response CreateTopics\(/;
const TOPIC_CREATION_ERRORS = 'Topic creation errors';

/** Whether a KafkaJS log line is start-up noise: a retried, transient condition, logged at debug. */
export function isTransientKafkaLog(message: string, fields: Readonly<Record<string, unknown>>): boolean {
  if (message.startsWith(PARTITIONER_WARNING)) return true;
  if (CONNECTION_REFUSED.test(message)) return true;
  const error = fields.error;
  if (typeof error !== 'string') return false;
  if (error === TOPIC_CREATION_ERRORS && CREATE_TOPICS_RESPONSE.test(message)) return true;
  return TRANSIENT_BROKER_ERRORS.includes(error) || CONNECTION_REFUSED.test(error);
}

/**
 * KafkaJS's log lines, in the caller's structured logger with their namespace (`kafka`), instead
 * of KafkaJS's console output. Transient start-up conditions go to debug (see above), and so do
 * KafkaJS's info lines ("Starting", "Consumer has joined the group", "Stopped"): the consumer seam
 * says the same once per consumer, in our words ("consumer joined its group"). Other errors and
 * warnings keep KafkaJS's level.
 */
export function routeLogsTo(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _source, ...rest } = log as { message: string; timestamp?: unknown; logger?: unknown };
      const fields = { kafka: namespace, ...rest };
      if (level === logLevel.ERROR || level === logLevel.WARN) {
        if (isTransientKafkaLog(message, rest)) logger.debug(fields, message);
        else if (level === logLevel.ERROR) logger.error(fields, message);
        else logger.warn(fields, message);
      } else logger.debug(fields, message);
    };
}
