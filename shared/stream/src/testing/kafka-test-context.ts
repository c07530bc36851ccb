import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port list of the real broker that vitest.kafka-setup.ts chose for this test run. */
    kafkaBrokers: string[];
  }
}

/** The brokers of this test run's real Kafka (see startTestBroker for how it is chosen). */
export function testKafkaBrokers(): string[] {
  const brokers = inject('kafkaBrokers');
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw new Error('no Kafka broker was provided: this project must list vitest.kafka-setup.ts in its globalSetup');
  }
  return brokers;
}
