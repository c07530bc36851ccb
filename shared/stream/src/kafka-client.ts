import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type logCreator, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from './kafka-config.js';
import type { Logger } from './logger.js';

/**
 * Builds the KafkaJS client from validated config. KafkaJS's own log lines are routed into the
 * caller's structured logger (with their namespace), instead of KafkaJS's console output.
 */
export function createKafkaClient(config: KafkaConfig, logger: Logger, options: { retries?: number } = {}): Kafka {
  const kafkaJsConfig: KafkaJsConfig = {
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: logLevel.INFO,
    logCreator: routeLogsTo(logger),
    retry: { retries: options.retries ?? 8, initialRetryTime: 200, maxRetryTime: 5000 },
  };
  if (config.ssl !== false) kafkaJsConfig.ssl = config.ssl === true ? true : { ca: [config.ssl.ca] };
  if (config.sasl) kafkaJsConfig.sasl = toKafkaJsSasl(config.sasl);
  return new Kafka(kafkaJsConfig);
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

export function routeLogsTo(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _source, ...rest } = log as { message: string; timestamp?: unknown; logger?: unknown };
      const fields = { kafka: namespace, ...rest };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
      else if (level === logLevel.INFO) logger.info(fields, message);
      else logger.debug(fields, message);
    };
}
