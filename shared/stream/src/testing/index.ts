export { startTestBroker, TESTCONTAINERS_KAFKA_IMAGE, type TestBroker } from './test-broker.js';
export { testKafkaBrokers } from './kafka-test-context.js';
export { uniqueName } from './unique-names.js';
export { freePort } from '../local-kafka/free-port.js';
export { isProcessAlive } from '../local-kafka/process-alive.js';
