import type { Producer } from 'kafkajs';
import { DeadLetterWriter, encodeEvent, formatIssues, sendWithinLimit, validateEvent, type DeadLetter, type RecoEvent, type TopicSpec } from '@reco/stream';
import { ServingError, type FieldIssue } from './errors.js';

export interface IngestResult {
  accepted: number;
  rejected: number;
  issues: FieldIssue[];
}

/**
 * POST /v1/events behind the HTTP layer: every event is judged by the stream package's contract;
 * the valid ones are produced to reco.events keyed by userId with acks from all in-sync replicas,
 * the invalid ones go to the dead-letter topic with their reasons, both at once. Nothing valid in
 * a batch is lost to an invalid neighbour.
 */
export class EventIngest {
  readonly #producer: Producer;
  readonly #events: TopicSpec;
  readonly #deadLetters: DeadLetterWriter;
  readonly #onDeadLetterFailure: (error: unknown) => void;

  constructor(options: { producer: Producer; events: TopicSpec; deadLetter: TopicSpec; onDeadLetterFailure: (error: unknown) => void }) {
    this.#producer = options.producer;
    this.#events = options.events;
    this.#deadLetters = new DeadLetterWriter({ producer: options.producer, topic: options.deadLetter });
    this.#onDeadLetterFailure = options.onDeadLetterFailure;
  }

  /** `batch`: the items came as `{events: [...]}`, so issues are named `events[i].field`. */
  async ingest(items: readonly unknown[], options: { batch: boolean; route: string; requestId: string }): Promise<IngestResult> {
    const valid: RecoEvent[] = [];
    const letters: DeadLetter[] = [];
    const issues: FieldIssue[] = [];
    items.forEach((item, index) => {
      const result = validateEvent(item);
      if (result.ok) {
        valid.push(result.value);
        return;
      }
      for (const issue of result.issues) {
        const field = options.batch ? (issue.field === '$' ? `events[${index}]` : `events[${index}].${issue.field}`) : issue.field;
        issues.push({ field, message: issue.message, ...(options.batch ? { index } : {}) });
      }
      const userId = (item as { userId?: unknown } | null)?.userId;
      letters.push({
        // The request's own JSON for this event: what the client sent, minus whitespace.
        raw: Buffer.from(JSON.stringify(item) ?? 'null'),
        key: typeof userId === 'string' ? userId : null,
        reason: formatIssues(result.issues),
        issues: result.issues,
        source: { kind: 'http', route: options.route, requestId: options.requestId },
      });
    });
    const [produced, deadLettered] = await Promise.allSettled([
      valid.length === 0
        ? Promise.resolve([])
        : sendWithinLimit(
            this.#producer,
            this.#events,
            valid.map((e) => ({ key: e.userId, value: encodeEvent(e) })),
            { acks: -1 },
          ),
      this.#deadLetters.write(letters),
    ]);
    if (deadLettered.status === 'rejected') this.#onDeadLetterFailure(deadLettered.reason);
    if (produced.status === 'rejected') {
      throw new ServingError('RECO_ERR_KAFKA_UNAVAILABLE', `Kafka did not acknowledge ${valid.length} event(s): ${String(produced.reason)}`, { cause: produced.reason });
    }
    return { accepted: valid.length, rejected: letters.length, issues };
  }
}
