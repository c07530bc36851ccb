import type { IHeaders, Message, Producer } from 'kafkajs';
import type { ValidationIssue } from './event-contract.js';
import { recordSize, sendWithinLimit } from './send-within-limit.js';
import type { TopicSpec } from './topics.js';

/** Where a rejected message came from: a topic position, or an API request. */
export type DeadLetterSource =
  | { kind: 'topic'; topic: string; partition: number; offset: string }
  | { kind: 'http'; route: string; requestId?: string };

export interface DeadLetter {
  /** The message exactly as received; never re-encoded, so nothing about it is lost. */
  raw: Buffer | null;
  key: Buffer | string | null;
  reason: string;
  issues: ValidationIssue[];
  source: DeadLetterSource;
}

export const DLQ_HEADERS = {
  reason: 'reco-dlq-reason',
  issues: 'reco-dlq-issues',
  source: 'reco-dlq-source',
  failedAt: 'reco-dlq-failed-at',
  /** Present when the writer had to cut the value to fit the topic: the byte length it was given. */
  truncatedFrom: 'reco-dlq-truncated-from',
} as const;

/** Headers stay small whatever was rejected: a reason is a sentence, not a copy of the input. */
const MAX_REASON_CHARS = 4096;
const MAX_ISSUES_IN_HEADER = 50;
/** Room kept under the topic limit for the headers this module adds after measuring. */
const HEADER_SLACK_BYTES = 256;

export function toDeadLetterMessage(letter: DeadLetter, now: Date = new Date()): Message {
  // Reason and provenance travel in headers so the value stays the untouched original bytes.
  const reason = letter.reason.length > MAX_REASON_CHARS ? `${letter.reason.slice(0, MAX_REASON_CHARS)}…` : letter.reason;
  const issues = letter.issues.length > MAX_ISSUES_IN_HEADER ? letter.issues.slice(0, MAX_ISSUES_IN_HEADER) : letter.issues;
  const headers: IHeaders = {
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.issues]: JSON.stringify(issues),
    [DLQ_HEADERS.source]: JSON.stringify(letter.source),
    [DLQ_HEADERS.failedAt]: now.toISOString(),
  };
  return { key: letter.key, value: letter.raw, headers };
}

/**
 * A dead letter always fits its topic: a value too large for max.message.bytes keeps its first
 * bytes and says how long the original was. Refusing it instead would lose the reason as well,
 * and one oversized letter would take the rest of its batch down with it.
 */
export function fitDeadLetter(message: Message, maxMessageBytes: number): Message {
  const size = recordSize(message);
  if (size <= maxMessageBytes) return message;
  const value = message.value === null || message.value === undefined ? Buffer.alloc(0) : Buffer.isBuffer(message.value) ? message.value : Buffer.from(message.value);
  const keep = Math.max(0, value.length - (size - maxMessageBytes) - HEADER_SLACK_BYTES);
  return { ...message, value: value.subarray(0, keep), headers: { ...message.headers, [DLQ_HEADERS.truncatedFrom]: String(value.length) } };
}

export function fromDeadLetterMessage(message: { key: Buffer | null; value: Buffer | null; headers?: IHeaders }): DeadLetter & { failedAt: string; truncatedFrom?: number } {
  const header = (name: string): string => {
    const value = message.headers?.[name];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? '' : first.toString();
  };
  const truncatedFrom = header(DLQ_HEADERS.truncatedFrom);
  return {
    raw: message.value,
    key: message.key,
    reason: header(DLQ_HEADERS.reason),
    issues: JSON.parse(header(DLQ_HEADERS.issues) || '[]') as ValidationIssue[],
    source: JSON.parse(header(DLQ_HEADERS.source) || '{}') as DeadLetterSource,
    failedAt: header(DLQ_HEADERS.failedAt),
    ...(truncatedFrom === '' ? {} : { truncatedFrom: Number(truncatedFrom) }),
  };
}

/**
 * Writes rejected messages to the dead-letter topic, with acks from all in-sync replicas. Building
 * the records cannot fail on any letter (bounded headers, values cut to fit); only Kafka can
 * refuse the write, and the caller decides what that means.
 */
export class DeadLetterWriter {
  readonly #producer: Producer;
  readonly #spec: TopicSpec;

  constructor(options: { producer: Producer; topic: TopicSpec }) {
    this.#producer = options.producer;
    this.#spec = options.topic;
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const now = new Date();
    const limit = this.#spec.maxMessageBytes;
    // The topic's limit applies to a whole record batch, and one send to this one-partition topic
    // is one batch: letters go out in runs that each fit, so a big rejected batch still lands.
    let run: Message[] = [];
    let runBytes = 0;
    for (const letter of letters) {
      const message = fitDeadLetter(toDeadLetterMessage(letter, now), limit);
      const size = recordSize(message);
      if (run.length > 0 && runBytes + size > limit) {
        await sendWithinLimit(this.#producer, this.#spec, run);
        run = [];
        runBytes = 0;
      }
      run.push(message);
      runBytes += size;
    }
    await sendWithinLimit(this.#producer, this.#spec, run);
  }
}
