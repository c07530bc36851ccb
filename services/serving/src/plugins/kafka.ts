import fp from 'fastify-plugin';
import type { Producer, TopicSpec } from '@reco/stream';
import { EventIngest } from '../event-ingest.js';

declare module 'fastify' {
  interface FastifyInstance {
    eventIngest: EventIngest;
  }
}

export interface KafkaPluginOptions {
  /** Connected producer; the app owns it from here on and disconnects it on close. */
  producer: Producer;
  topics: { events: TopicSpec; deadLetter: TopicSpec };
}

/** The Kafka producer as a shared resource: event ingest on top of it, disconnected on close. */
export const kafkaPlugin = fp<KafkaPluginOptions>(
  async (app, { producer, topics }) => {
    app.decorate(
      'eventIngest',
      new EventIngest({
        producer,
        events: topics.events,
        deadLetter: topics.deadLetter,
        onDeadLetterFailure: (error) => app.log.error({ err: error }, 'dead-letter write failed; the 400 still names every invalid event'),
      }),
    );
    app.addHook('onClose', async () => {
      await producer.disconnect();
    });
  },
  { name: 'reco-kafka' },
);
