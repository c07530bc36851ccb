import type { IHeaders, Message, Producer } from 'kafkajs';
import type { ValidationIssue } from './event-contract.js';
import { sendWithinLimit } from './send-within-limit.js';
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
} as const;

export function toDeadLetterMessage(letter: DeadLetter, now: Date = new Date()): Message {
  // Reason and provenance travel in headers so the value stays the untouched original bytes.
  const headers: IHeaders = {
    [DLQ_HEADERS.reason]: letter.reason,
    [DLQ_HEADERS.issues]: JSON.stringify(letter.issues),
    [DLQ_HEADERS.source]: JSON.stringify(letter.source),
    [DLQ_HEADERS.failedAt]: now.toISOString(),
  };
  return { key: letter.key, value: letter.raw, headers };
}

export function fromDeadLetterMessage(message: { key: Buffer | null; value: Buffer | null; headers?: IHeaders }): DeadLetter & { failedAt: string } {
  const header = (name: string): string => {
    const value = message.headers?.[name];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? '' : first.toString();
  };
  return {
    raw: message.value,
    key: message.key,
    reason: header(DLQ_HEADERS.reason),
    issues: JSON.parse(header(DLQ_HEADERS.issues) || '[]') as ValidationIssue[],
    source: JSON.parse(header(DLQ_HEADERS.source) || '{}') as DeadLetterSource,
    failedAt: header(DLQ_HEADERS.failedAt),
  };
}

/** Writes rejected messages to the dead-letter topic, with acks from all in-sync replicas. */
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
    await sendWithinLimit(this.#producer, this.#spec, letters.map((l) => toDeadLetterMessage(l, now)));
  }
}
