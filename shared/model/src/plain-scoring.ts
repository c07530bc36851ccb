import * as tf from '@tensorflow/tfjs-core';
import type { AdaptationMethod } from './adaptation/adaptation-method.js';
import { LadderMethod } from './adaptation/ladder.js';
import { PAD_ID, UNK_ID } from './backbone-config.js';
import type { BackboneRunOutput } from './backbone-runner.js';

/** One block of the ladder side network as plain arrays (see LadderMethod for the maths). */
interface LadderBlockArrays {
  /** [d, s] row-major */
  down: Float32Array;
  downBias: Float32Array;
  /** sigmoid(alpha / T), precomputed: the gate does not depend on the input. */
  gate: Float32Array;
  /** [s, s] row-major */
  side: Float32Array;
  sideBias: Float32Array;
}

interface LadderArrays {
  width: number;
  blocks: LadderBlockArrays[];
  /** [s, d] row-major */
  up: Float32Array;
  upBias: Float32Array;
}

/**
 * Scoring of methods whose adapted user state is a function of the frozen backbone's outputs
 * alone (`ladder` and `frozen`), from plain typed arrays instead of TF.js calls.
 *
 * A serving request scores one user against a few thousand items: a handful of tiny matrix
 * products, for which TF.js's per-op dispatch (and, on WASM, copies into its heap) costs more than
 * the arithmetic. A live model is immutable, so everything is copied out of TF.js once, when the
 * model version is built: the output item table, the per-slot bias and the ladder's weights.
 * Scores go into one scratch buffer owned by the scorer; `topItems` is synchronous, so two
 * requests never share it mid-use, and no request allocates a catalogue-sized array.
 *
 * The other methods change the backbone's own computation (LoRA, BitFit, adapters, prompts), so
 * their user state needs the backbone forward with their parameters: they keep the TF.js path.
 */
export class PlainScorer {
  readonly dim: number;
  readonly numSlots: number;
  readonly blocks: number;
  /** [numSlots, d] row-major: backbone item rows, then the side rows in use. */
  readonly #table: Float32Array;
  readonly #bias: Float32Array;
  readonly #ladder: LadderArrays | undefined;
  readonly #scores: Float32Array;
  readonly #state: Float32Array;
  readonly #z: Float32Array;
  readonly #tmp: Float32Array;
  readonly #normed: Float32Array;

  private constructor(dim: number, blocks: number, table: Float32Array, bias: Float32Array, ladder: LadderArrays | undefined) {
    this.dim = dim;
    this.blocks = blocks;
    this.numSlots = bias.length;
    if (table.length !== this.numSlots * dim) throw new Error(`item table has ${table.length} values, expected ${this.numSlots} x ${dim}`);
    this.#table = table;
    this.#bias = bias;
    this.#ladder = ladder;
    this.#scores = new Float32Array(this.numSlots);
    this.#state = new Float32Array(dim);
    const width = ladder?.width ?? 1;
    this.#z = new Float32Array(width);
    this.#tmp = new Float32Array(width);
    this.#normed = new Float32Array(dim);
  }

  /**
   * A scorer for `method`, or undefined when its user state needs the backbone forward itself.
   * Reads the method's tensors synchronously: call it once per (immutable) model version.
   */
  static of(method: AdaptationMethod): PlainScorer | undefined {
    if (method.name !== 'frozen' && method.name !== 'ladder') return undefined;
    const { dim, blocks } = method.backbone.config;
    // Copied inside a tidy and never disposed by hand: with no side items the table *is* the
    // backbone's own embedding tensor, which only its owner may free.
    const [table, bias] = tf.tidy(() => [method.itemTable(), method.itemBias()].map((t) => Float32Array.from(t.dataSync() as Float32Array))) as [Float32Array, Float32Array];
    // PAD and UNK never score; -Infinity in the bias keeps them out of every top-k.
    bias[PAD_ID] = -Infinity;
    bias[UNK_ID] = -Infinity;
    return new PlainScorer(dim, blocks, table, bias, method instanceof LadderMethod ? ladderArrays(method) : undefined);
  }

  /** The output item table, row-major [numSlots, d] (read-only: it is this version's). */
  get itemTable(): Float32Array {
    return this.#table;
  }

  /** Per-slot bias [numSlots], PAD and UNK at -Infinity (read-only). */
  get itemBias(): Float32Array {
    return this.#bias;
  }

  /**
   * The adapted user state of row `row` of a runner output, written into a buffer the scorer
   * owns and returns (valid until the next call).
   */
  userState(out: BackboneRunOutput, row: number): Float32Array {
    const d = this.dim;
    if (out.dim !== d) throw new Error(`runner output has dim ${out.dim}, scorer expects ${d}`);
    const h = this.#state;
    h.set(out.userState.subarray(row * d, (row + 1) * d));
    const ladder = this.#ladder;
    if (ladder === undefined) return h;
    const s = ladder.width;
    const z = this.#z;
    const tmp = this.#tmp;
    const normed = this.#normed;
    z.fill(0);
    ladder.blocks.forEach((block, b) => {
      const source = out.blockOutputs[b];
      if (source === undefined) throw new Error(`runner output lacks block ${b}`);
      // LayerNorm without scale/shift, as LadderMethod.userState: population variance, eps 1e-5.
      const base = row * d;
      let mean = 0;
      for (let i = 0; i < d; i++) mean += source[base + i] ?? 0;
      mean /= d;
      let variance = 0;
      for (let i = 0; i < d; i++) {
        const c = (source[base + i] ?? 0) - mean;
        variance += c * c;
      }
      const inv = 1 / Math.sqrt(variance / d + 1e-5);
      for (let i = 0; i < d; i++) normed[i] = ((source[base + i] ?? 0) - mean) * inv;
      // ladder connection, gate, then the side block's residual GELU layer.
      affine(normed, block.down, block.downBias, d, s, tmp);
      for (let j = 0; j < s; j++) {
        const mu = block.gate[j] ?? 0;
        z[j] = mu * (z[j] ?? 0) + (1 - mu) * (tmp[j] ?? 0);
      }
      affine(z, block.side, block.sideBias, s, s, tmp);
      for (let j = 0; j < s; j++) {
        const pre = tmp[j] ?? 0;
        z[j] = (z[j] ?? 0) + pre / (1 + Math.exp(-1.702 * pre));
      }
    });
    for (let i = 0; i < d; i++) {
      let acc = ladder.upBias[i] ?? 0;
      for (let j = 0; j < s; j++) acc += (z[j] ?? 0) * (ladder.up[j * d + i] ?? 0);
      h[i] = (h[i] ?? 0) + acc;
    }
    return h;
  }

  /** One slot's score for user state `h` (h · E_slot + b_slot), as `scores` computes it. */
  slotScore(h: Float32Array, slot: number): number {
    const d = this.dim;
    const base = slot * d;
    let acc = 0;
    for (let i = 0; i < d; i++) acc += (this.#table[base + i] ?? 0) * (h[i] ?? 0);
    return acc + (this.#bias[slot] ?? 0);
  }

  /**
   * Scores of every slot for user state `h` (h · E_slot + b_slot; PAD/UNK are -Infinity), in the
   * scorer's scratch buffer: read it before the next call.
   */
  scores(h: Float32Array): Float32Array {
    const d = this.dim;
    const table = this.#table;
    const bias = this.#bias;
    const out = this.#scores;
    for (let slot = 0, base = 0; slot < this.numSlots; slot++, base += d) {
      let acc = 0;
      for (let i = 0; i < d; i++) acc += (table[base + i] ?? 0) * (h[i] ?? 0);
      out[slot] = acc + (bias[slot] ?? 0);
    }
    return out;
  }
}

function ladderArrays(method: LadderMethod): LadderArrays {
  const read = (name: string): Float32Array => method.weightValues(name);
  const blocks: LadderBlockArrays[] = [];
  for (let b = 0; b < method.backbone.config.blocks; b++) {
    const p = `ladder.block${b}`;
    const alpha = read(`${p}.alpha`);
    blocks.push({
      down: read(`${p}.down`),
      downBias: read(`${p}.down_bias`),
      gate: alpha.map((a) => 1 / (1 + Math.exp(-a / method.temperature))),
      side: read(`${p}.side`),
      sideBias: read(`${p}.side_bias`),
    });
  }
  return { width: method.width, blocks, up: read('ladder.up'), upBias: read('ladder.up_bias') };
}

/** out = x · W + bias for x [rows of W], W [n, m] row-major. */
function affine(x: Float32Array, w: Float32Array, bias: Float32Array, n: number, m: number, out: Float32Array): void {
  for (let j = 0; j < m; j++) out[j] = bias[j] ?? 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i] ?? 0;
    if (xi === 0) continue;
    const row = i * m;
    for (let j = 0; j < m; j++) out[j] = (out[j] ?? 0) + xi * (w[row + j] ?? 0);
  }
}
