import type * as Ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from './onnx-graph.js';
import { type OnnxRuntimeModule, loadOnnxRuntime } from './ort-runner.js';
import { DEFAULT_ORT_PROVIDERS, createOrtSession } from './ort-session.js';

const USER_STATE = 'user_state';
const ITEM_TABLE_T = 'item_table_t';
const ITEM_BIAS = 'item_bias';
const K = 'k';
const TOP_SCORES = 'top_scores';
const TOP_SLOTS = 'top_slots';

/**
 * The ranking graph: scores = h · T + b over every slot, then TopK. The item table is an input,
 * not an initializer, so one session ranks for every model version (each has its own table: its
 * own side rows and bias); the table is transposed once per version (`table()`), not per call.
 */
export function buildItemRankerOnnx(dim: number): Uint8Array {
  const g = new OnnxGraphBuilder();
  const h = g.input(USER_STATE, 'float32', ['batch', dim]);
  const table = g.input(ITEM_TABLE_T, 'float32', [dim, 'slots']);
  const bias = g.input(ITEM_BIAS, 'float32', ['slots']);
  const k = g.input(K, 'int64', [1]);
  const scores = g.op('Add', [g.op('MatMul', [h, table], 'logits'), bias], 'scores');
  // Sorted best first; equal scores keep the lower slot first (ONNX TopK's tie rule), as topK() does.
  const [values, indices] = g.node('TopK', [scores, k], ['top_values', 'top_indices'], { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } });
  g.output(values as string, TOP_SCORES, 'float32', ['batch', 'k']);
  g.output(indices as string, TOP_SLOTS, 'int64', ['batch', 'k']);
  return g.encode({ graphName: 'reco_item_ranker', producerName: 'reco', docString: 'top-k slots of h · table^T + bias' });
}

/** One model version's item table and bias, ready to feed (built once per version). */
export interface RankerTable {
  readonly dim: number;
  readonly slots: number;
  readonly tableT: Ort.Tensor;
  readonly bias: Ort.Tensor;
}

export interface RankedSlots {
  /** Best first. */
  slots: Int32Array;
  scores: Float32Array;
}

/** The top lists of several user states from one call: row r is [r * perRow, (r + 1) * perRow). */
export interface RankedRows {
  perRow: number;
  slots: Int32Array;
  scores: Float32Array;
}

/** What serving ranks with: one engine's ranker, or a micro-batching one in front of it. */
export interface ItemRanker {
  readonly dim: number;
  /** Feeds for one model version: `table` row-major [slots, dim], `bias` [slots]. */
  table(table: Float32Array, bias: Float32Array): RankerTable;
  /** The k best slots for user state `h` (length dim; copied before any await). */
  top(h: Float32Array, table: RankerTable, k: number): Promise<RankedSlots>;
  dispose(): void;
}

/**
 * Top-k over the whole catalogue on ONNX Runtime, for one user state: a serving request's
 * h · E^T (a few thousand dot products of width d) and the selection, in native code. The plain
 * JavaScript loop over the same table costs several times more per request (README, performance).
 */
export class OrtItemRanker implements ItemRanker {
  private released = false;

  private constructor(
    private readonly ort: OnnxRuntimeModule,
    private readonly session: Ort.InferenceSession,
    readonly dim: number,
  ) {}

  static async create(
    dim: number,
    options: { threads?: number; providers?: readonly string[]; loadOrt?: () => Promise<OnnxRuntimeModule>; log?: (message: string) => void } = {},
  ): Promise<OrtItemRanker> {
    const ort = await (options.loadOrt ?? loadOnnxRuntime)();
    const settings = { threads: options.threads ?? 1, providers: options.providers ?? DEFAULT_ORT_PROVIDERS };
    const { session } = await createOrtSession(ort, buildItemRankerOnnx(dim), settings, options.log === undefined ? {} : { log: options.log });
    return new OrtItemRanker(ort, session, dim);
  }

  /** Feeds for one version: `table` is row-major [slots, dim] (as PlainScorer holds it), `bias` [slots]. */
  table(table: Float32Array, bias: Float32Array): RankerTable {
    const d = this.dim;
    const slots = bias.length;
    if (table.length !== slots * d) throw new Error(`item table has ${table.length} values, expected ${slots} x ${d}`);
    const transposed = new Float32Array(d * slots);
    for (let s = 0; s < slots; s++) for (let i = 0; i < d; i++) transposed[i * slots + s] = table[s * d + i] ?? 0;
    return { dim: d, slots, tableT: new this.ort.Tensor('float32', transposed, [d, slots]), bias: new this.ort.Tensor('float32', bias.slice(), [slots]) };
  }

  /** The k best slots for user state `h` (length dim; copied before the call). */
  async top(h: Float32Array, table: RankerTable, k: number): Promise<RankedSlots> {
    if (h.length !== this.dim) throw new Error(`ranker expects a user state of ${this.dim}, got ${h.length}`);
    // topRows copies a lone state into its padded input before the call.
    const ranked = await this.topRows(h, 1, table, k);
    return { slots: ranked.slots, scores: ranked.scores };
  }

  /**
   * The k best slots of each of `rows` user states in one engine call: `states` is row-major
   * [rows, dim] (handed to the engine as is: the caller must not change it until this settles);
   * the answer holds min(k, slots) entries per row, row after row, each row best first.
   *
   * A lone state is sent with a zero row beside it: ONNX Runtime multiplies a one-row input on
   * another path (a matrix-vector product) whose sums round differently, so without it a user's
   * scores would depend on whether their request shared a call. From two rows up a row's scores
   * are the same to the bit whatever the batch (ort-item-ranker.test.ts checks it).
   */
  async topRows(states: Float32Array, rows: number, table: RankerTable, k: number): Promise<RankedRows> {
    if (this.released) throw new Error('OrtItemRanker used after dispose()');
    if (table.dim !== this.dim || states.length !== rows * this.dim) throw new Error(`ranker expects ${rows} user states of ${this.dim}, got ${states.length} values`);
    const perRow = Math.max(0, Math.min(Math.floor(k), table.slots));
    if (perRow === 0 || rows === 0) return { perRow: 0, slots: new Int32Array(0), scores: new Float32Array(0) };
    const fed = rows === 1 ? 2 : rows;
    const input = rows === 1 ? new Float32Array(2 * this.dim) : states;
    if (rows === 1) input.set(states);
    const results = await this.session.run({
      [USER_STATE]: new this.ort.Tensor('float32', input, [fed, this.dim]),
      [ITEM_TABLE_T]: table.tableT,
      [ITEM_BIAS]: table.bias,
      [K]: new this.ort.Tensor('int64', BigInt64Array.of(BigInt(perRow)), [1]),
    });
    const scores = results[TOP_SCORES]?.data as Float32Array | undefined;
    const slots = results[TOP_SLOTS]?.data as BigInt64Array | undefined;
    if (scores === undefined || slots === undefined) throw new Error('ONNX Runtime returned no top-k');
    const values = rows * perRow;
    return { perRow, slots: Int32Array.from(slots.subarray(0, values), Number), scores: scores.subarray(0, values) };
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.session.release().catch(() => undefined);
  }
}
