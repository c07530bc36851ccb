import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';

// KafkaJS's type definitions lag behind its error constructors (which take options with causes,
// brokers and retry counts), so tests build the real classes through this loosely typed door.
type ErrorClass = new (e: unknown, options?: object) => Error;

/** A real KafkaJS error instance, of the class KafkaJS exports under `name`. */
export function kafkaJsError(name: string, e: unknown, options?: object): Error {
  const Class = (kafkajs as unknown as Record<string, ErrorClass | undefined>)[name];
  if (!Class) throw new Error(`kafkajs exports no ${name}`);
  return new Class(e, options);
}

// KafkaJS's own protocol error table (every code with the flag KafkaJS gives it), so tests use
// the errors a broker really answers with, not hand-made look-alikes.
const errorTable = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error & { type: string; retriable: boolean } };

/** The KafkaJSProtocolError a broker's error code becomes. */
export function protocolError(code: number): Error & { type: string; retriable: boolean } {
  return errorTable.createErrorFromCode(code);
}

/** What KafkaJS crashed a consumer with after its retries against a killed broker ran out (measured). */
export function brokerGoneCrash(): Error {
  const refused = kafkaJsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', { broker: '127.0.0.1:1', code: 'ECONNREFUSED' });
  return kafkaJsError('KafkaJSNonRetriableError', refused, { cause: refused });
}
