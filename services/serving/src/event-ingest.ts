import { DeadLetterWriter, MAX_ID_LENGTH, encodeEvent, formatIssues, sendWithinLimit, validateEvent, type DeadLetter, type Producer, type RecoEvent, type TopicSpec, type ValidationIssue } from '@reco/stream';
import { boundedJson } from './bounded-json.js';
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
  readonly #deadLetterMaxChars: number;

  constructor(options: { producer: Producer; events: TopicSpec; deadLetter: TopicSpec; onDeadLetterFailure: (error: unknown) => void }) {
    this.#producer = options.producer;
    this.#events = options.events;
    this.#deadLetters = new DeadLetterWriter({ producer: options.producer, topic: options.deadLetter });
    this.#onDeadLetterFailure = options.onDeadLetterFailure;
    this.#deadLetterMaxChars = options.deadLetter.maxMessageBytes;
  }

  /** `batch`: the items came as `{events: [...]}`, so issues are named `events[i].field`. */
  async ingest(items: readonly unknown[], options: { batch: boolean; route: string; requestId: string }): Promise<IngestResult> {
    const valid: RecoEvent[] = [];
    const letters: DeadLetter[] = [];
    const issues: FieldIssue[] = [];
    items.forEach((item, index) => {
      const judged = this.#judge(item);
      if (judged.ok) {
        valid.push(judged.value);
        return;
      }
      for (const issue of judged.issues) {
        const field = options.batch ? (issue.field === '$' ? `events[${index}]` : `events[${index}].${issue.field}`) : issue.field;
        issues.push({ field, message: issue.message, ...(options.batch ? { index } : {}) });
      }
      letters.push(this.#letter(item, judged.issues, { kind: 'http', route: options.route, requestId: options.requestId }));
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
      // The client learns that nothing was accepted; the broker's address and error stay in the log.
      throw new ServingError('RECO_ERR_KAFKA_UNAVAILABLE', `Kafka did not acknowledge ${valid.length} event(s); none of them was accepted, retry`, { cause: produced.reason });
    }
    return { accepted: valid.length, rejected: letters.length, issues };
  }

  /** The event contract's verdict; an item that cannot even be read is invalid, never a thrown request. */
  #judge(item: unknown): { ok: true; value: RecoEvent } | { ok: false; issues: ValidationIssue[] } {
    try {
      return validateEvent(item);
    } catch (error) {
      // Only values JSON.parse never makes (a getter or Proxy that throws) get here.
      return { ok: false, issues: [{ field: '$', message: `could not be read: ${error instanceof Error ? error.message : 'unknown error'}` }] };
    }
  }

  /**
   * A dead letter for any item, without throwing: the item's JSON (the request's own text minus
   * whitespace) encoded without recursion and cut to what the dead-letter topic can hold.
   */
  #letter(item: unknown, itemIssues: ValidationIssue[], source: DeadLetter['source']): DeadLetter {
    const raw = boundedJson(item, this.#deadLetterMaxChars);
    let userId: unknown;
    try {
      userId = typeof item === 'object' && item !== null ? (item as { userId?: unknown }).userId : undefined;
    } catch {
      userId = undefined;
    }
    const reason = formatIssues(itemIssues);
    return {
      raw: Buffer.from(raw.text),
      // Keyed by the user when the id is a plausible one, so a user's rejected events stay together.
      key: typeof userId === 'string' && userId.length <= MAX_ID_LENGTH ? userId : null,
      reason: raw.complete ? reason : `${reason} (the value kept here is the first ${raw.text.length} characters of its JSON)`,
      issues: itemIssues,
      source,
    };
  }
}
