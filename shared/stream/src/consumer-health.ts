/**
 * What a long-running consumer reports about itself, read by both services' `/readyz` and by the
 * `reco_consumer_up` gauge. One shape for every consumer, so operators learn it once.
 *
 *   starting      launched, not yet a member of its group with partitions assigned
 *   running       joined and fetching
 *   reconnecting  lost the cluster (or its group) and is retrying with capped backoff, forever
 *   failed        stopped on an error that retrying cannot fix (a bug, bad credentials); needs an operator
 *   stopped       stopped on purpose (shutdown)
 */
import type { ConsumerObserver } from './topic-consumer.js';

export type ConsumerState = 'starting' | 'running' | 'reconnecting' | 'failed' | 'stopped';

export interface ConsumerHealth {
  /** Which reader this is inside its service (`history`, `snapshots`, `events`). */
  readonly name: string;
  readonly topic: string;
  readonly state: ConsumerState;
  /** When `state` last changed (ms since the epoch). */
  readonly sinceMs: number;
  /** Restarts after a crash since the consumer was started. */
  readonly restarts: number;
  /** Messages between this consumer's positions and the partition ends, as last measured. */
  readonly lag: number | undefined;
  /**
   * The error behind `reconnecting` or `failed`, with its causes. For logs only: KafkaJS errors
   * name the broker they could not reach, which unauthenticated responses must not show.
   */
  readonly lastError: string | undefined;
}

/**
 * The readiness reason for one consumer, or undefined when it is running. Safe to show to anyone:
 * it names the reader and its state, never the error (which can carry broker addresses).
 */
export function consumerNotReadyReason(health: ConsumerHealth): string | undefined {
  switch (health.state) {
    case 'running':
      return undefined;
    case 'starting':
      return `${health.name} consumer starting`;
    case 'reconnecting':
      return `${health.name} consumer reconnecting to Kafka`;
    case 'failed':
      return `${health.name} consumer failed and will not restart (see the service log)`;
    case 'stopped':
      return `${health.name} consumer stopped`;
  }
}

/** The Prometheus series every service exports for each of its consumers (prom-client fits these). */
export interface ConsumerMetrics {
  /** `reco_consumer_up{service,topic}`: 1 while running, 0 otherwise. */
  up: { set(labels: { service: string; topic: string }, value: number): void };
  /** `reco_consumer_lag{service,topic,partition}`. */
  lag: { set(labels: { service: string; topic: string; partition: string }, value: number): void };
  /** `reco_consumer_messages_total{service,topic}`: messages handled, for stall alerts. */
  messages: { inc(labels: { service: string; topic: string }, value: number): void };
}

/** An observer that keeps a consumer's series current; the same label values in every service. */
export function metricsObserver(metrics: ConsumerMetrics, service: string, topic: string): ConsumerObserver {
  // The counter exists at 0 from the start: a consumer that dies before its first message must
  // still have a flat series for the stall alert to compare against, not no series at all.
  metrics.messages.inc({ service, topic }, 0);
  return {
    state: (health) => metrics.up.set({ service, topic }, health.state === 'running' ? 1 : 0),
    lag: (partition, lag) => metrics.lag.set({ service, topic, partition: String(partition) }, lag),
    consumed: (count) => metrics.messages.inc({ service, topic }, count),
  };
}
