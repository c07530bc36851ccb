import type { Message, Producer, RecordMetadata } from 'kafkajs';
import { StreamError } from './errors.js';
import type { TopicSpec } from './topics.js';

/** Bytes Kafka adds around one record in a v2 batch (batch header + record framing), upper bound. */
const RECORD_OVERHEAD_BYTES = 61 + 21;

export function recordSize(message: Message): number {
  const bytes = (v: Buffer | string | null | undefined): number =>
    v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  let size = RECORD_OVERHEAD_BYTES + bytes(message.key) + bytes(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) size += Buffer.byteLength(name) + bytes(v) + 10;
  }
  return size;
}

/**
 * Produces to a topic of the catalogue, refusing before the network any record that its topic's
 * max.message.bytes would reject, and turning the broker's own MESSAGE_TOO_LARGE (a topic
 * created with a smaller limit than the spec) into the same clear error. Either way the error
 * names the limit, so a too-large snapshot is diagnosed from the log line alone.
 */
export async function sendWithinLimit(
  // A producer or a transaction (the updater publishes snapshots inside one): both send alike.
  producer: Pick<Producer, 'send'>,
  spec: TopicSpec,
  messages: Message[],
  options: { acks?: -1 | 0 | 1; checkBeforeSending?: boolean } = {},
): Promise<RecordMetadata[]> {
  if (options.checkBeforeSending !== false) {
    for (const [index, message] of messages.entries()) {
      const size = recordSize(message);
      if (size > spec.maxMessageBytes) {
        throw new StreamError(
          'RECO_ERR_MESSAGE_TOO_LARGE',
          `message ${index} for topic ${spec.name} is about ${size} bytes, over the topic's max.message.bytes=${spec.maxMessageBytes}`,
        );
      }
    }
  }
  try {
    return await producer.send({ topic: spec.name, messages, acks: options.acks ?? -1 });
  } catch (cause) {
    if (isMessageTooLarge(cause)) {
      const largest = Math.max(...messages.map(recordSize));
      throw new StreamError(
        'RECO_ERR_MESSAGE_TOO_LARGE',
        `broker refused a record of about ${largest} bytes for topic ${spec.name}: over its max.message.bytes (catalogue limit ${spec.maxMessageBytes}; the topic on the broker may be set lower)`,
        { cause },
      );
    }
    throw cause;
  }
}

function isMessageTooLarge(error: unknown): boolean {
  for (let e: unknown = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { type?: unknown }).type === 'MESSAGE_TOO_LARGE') return true;
    // KafkaJS wraps the protocol error in a retry error and keeps the original as `originalError`.
    const original = (e as { originalError?: unknown }).originalError;
    if (typeof original === 'object' && original !== null && (original as { type?: unknown }).type === 'MESSAGE_TOO_LARGE') return true;
  }
  return false;
}
