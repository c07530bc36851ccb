import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@reco/data';
import {
  type BackboneConfig,
  type WeightSpec,
  PAD_ID,
  backboneWeightSpecs,
  blockPrefix,
  countParameters,
  validateBackboneConfig,
} from './backbone-config.js';
import type { BackboneModifiers } from './backbone-modifiers.js';
import { type AttentionWeights, causalPaddingMask, lastRows, multiHeadAttention } from './causal-attention.js';
import { markConstant } from './constant-tensors.js';
import { embeddingLookup } from './embedding-lookup.js';
import { matMul } from './matmul.js';

/** What one forward produces; every tensor belongs to the caller's `tf.tidy`. */
export interface BackboneOutput {
  /** Final-LayerNorm output at every position [B, L, d]; the user state is the last row. */
  hidden: tf.Tensor3D;
  /** The residual stream after each block [B, L, d] (the ladder's inputs). */
  blockOutputs: tf.Tensor3D[];
}

/** What a forward gives at each sequence's last position, every tensor [B, d]. */
export interface LastStates {
  /** Final-LayerNorm output: the user state. */
  userState: tf.Tensor2D;
  /** The residual stream after each block (the ladder's inputs). */
  blockOutputs: tf.Tensor2D[];
}

/**
 * The sequential recommender: item + position embeddings, pre-LN causal transformer blocks,
 * final LayerNorm; score(i) = h · E_i with the input table tied to the output one.
 *
 * The holder owns its tensors. A frozen backbone holds plain tensors, not `tf.Variable`s, so no
 * optimiser can update it even by mistake; pretraining builds one with variables instead.
 */
export class Backbone {
  readonly config: BackboneConfig;
  readonly specs: readonly WeightSpec[];
  private readonly tensors: Map<string, tf.Tensor>;
  private disposed = false;

  constructor(config: BackboneConfig, tensors: Map<string, tf.Tensor>) {
    this.config = validateBackboneConfig(config);
    this.specs = backboneWeightSpecs(config);
    for (const spec of this.specs) {
      const t = tensors.get(spec.name);
      if (t === undefined) throw new Error(`backbone weight ${spec.name} is missing`);
      if (t.shape.join('x') !== spec.shape.join('x')) {
        throw new Error(`backbone weight ${spec.name} has shape [${t.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
      }
    }
    if (tensors.size !== this.specs.length) throw new Error(`backbone has ${tensors.size} weights, expected ${this.specs.length}`);
    this.tensors = tensors;
    // A frozen backbone's weights are constants: a lookup reads its item table out once (see markConstant).
    for (const t of tensors.values()) if (!(t instanceof tf.Variable)) markConstant(t);
  }

  /**
   * Fresh random weights drawn from `rng` on the JS side, so the same seed gives the same
   * backbone on every TF.js backend. `trainable` makes them variables (for pretraining).
   */
  static random(config: BackboneConfig, rng: Rng, options: { trainable?: boolean } = {}): Backbone {
    const values = new Map<string, Float32Array>();
    for (const spec of backboneWeightSpecs(validateBackboneConfig(config))) values.set(spec.name, initialValues(spec, rng));
    return Backbone.fromValues(config, values, options);
  }

  /**
   * A backbone holding copies of `values` (one array per weight name, row-major). `trainable`
   * makes them variables named `backbone/<weight>`, the names an optimiser's gradient maps use.
   */
  static fromValues(config: BackboneConfig, values: ReadonlyMap<string, Float32Array>, options: { trainable?: boolean } = {}): Backbone {
    const tensors = new Map<string, tf.Tensor>();
    for (const spec of backboneWeightSpecs(validateBackboneConfig(config))) {
      const v = values.get(spec.name);
      if (v === undefined) throw new Error(`backbone weight ${spec.name} is missing`);
      const t = tf.tensor(v, spec.shape, 'float32');
      tensors.set(spec.name, options.trainable === true ? tf.variable(t, true, `backbone/${spec.name}`) : t);
      if (options.trainable === true) t.dispose();
    }
    return new Backbone(config, tensors);
  }

  /** A copy of every weight's values, by name (what a training thread is sent each step). */
  values(): Map<string, Float32Array> {
    this.checkAlive();
    const out = new Map<string, Float32Array>();
    for (const [name, t] of this.tensors) out.set(name, Float32Array.from(t.dataSync() as Float32Array));
    return out;
  }

  /** Overwrites every variable with `values` (a trainable backbone only). */
  assignValues(values: ReadonlyMap<string, Float32Array>): void {
    this.checkAlive();
    for (const spec of this.specs) {
      const t = this.tensors.get(spec.name);
      const v = values.get(spec.name);
      if (!(t instanceof tf.Variable)) throw new Error(`backbone weight ${spec.name} is not a variable`);
      if (v === undefined) throw new Error(`backbone weight ${spec.name} is missing`);
      tf.tidy(() => t.assign(tf.tensor(v, spec.shape, 'float32')));
    }
  }

  get parameterCount(): number {
    return countParameters(this.specs);
  }

  get dim(): number {
    return this.config.dim;
  }

  weight(name: string): tf.Tensor {
    this.checkAlive();
    const t = this.tensors.get(name);
    if (t === undefined) throw new Error(`backbone has no weight ${name}`);
    return t;
  }

  /** Weight names in canonical (checkpoint) order. */
  weightNames(): string[] {
    return this.specs.map((s) => s.name);
  }

  /** The variables a pretraining optimiser may update (empty for a frozen backbone). */
  variables(): tf.Variable[] {
    return [...this.tensors.values()].filter((t): t is tf.Variable => t instanceof tf.Variable);
  }

  /** A frozen copy with plain (non-variable) tensors, e.g. once pretraining is done. */
  frozenCopy(): Backbone {
    this.checkAlive();
    const copies = new Map<string, tf.Tensor>();
    for (const [name, t] of this.tensors) copies.set(name, tf.clone(t));
    return new Backbone(this.config, copies);
  }

  /**
   * One forward over left-padded ids [B, L] (int32; 0 = padding), every position. Call inside
   * `tf.tidy`. `modifiers` is how every adaptation method changes the computation (see
   * backbone-modifiers).
   */
  forward(ids: tf.Tensor2D, modifiers: BackboneModifiers = {}, options: { releaseIntermediates?: boolean } = {}): BackboneOutput {
    const { rows, blockRows, batch, len } = this.run(ids, modifiers, options.releaseIntermediates === true, false);
    const d = this.config.dim;
    return { hidden: tf.reshape<tf.Rank.R3>(rows, [batch, len, d]), blockOutputs: blockRows.map((x) => tf.reshape<tf.Rank.R3>(x, [batch, len, d])) };
  }

  /**
   * The forward's last position only, which is all a user state needs: the last block runs its
   * queries, feed-forward and final LayerNorm on that one row (keys and values still come from
   * every position), so it costs a fiftieth of a full block at maxLen 50. The figures equal
   * `forward`'s last rows. Call inside `tf.tidy`.
   */
  lastStates(ids: tf.Tensor2D, modifiers: BackboneModifiers = {}, options: { releaseIntermediates?: boolean } = {}): LastStates {
    const { rows, blockRows, batch, len } = this.run(ids, modifiers, options.releaseIntermediates === true, true);
    const last = this.config.blocks - 1;
    return { userState: rows, blockOutputs: blockRows.map((x, b) => (b === last ? x : lastRows(x, batch, len))) };
  }

  /** The forward; with `lastOnly` the last block (and so the result) holds each sequence's last row only, [B, d]. */
  private run(ids: tf.Tensor2D, modifiers: BackboneModifiers, release: boolean, lastOnly: boolean) {
    this.checkAlive();
    // Inference only: each block in its own tidy, so a block's activations are freed as soon as
    // its output exists (the frozen runner's peak memory drops from all blocks' to one block's).
    // Under a gradient tape that would free what backprop needs, so it is refused there.
    if (release && tf.engine().state.activeTape != null) throw new Error('releaseIntermediates is for inference; a gradient tape is recording');
    const { config } = this;
    const [batch, len] = ids.shape;
    if (len !== config.maxLen) throw new Error(`backbone input has length ${len}, expected maxLen ${config.maxLen}`);
    const w = (name: string): tf.Tensor => {
      const base = this.weight(name);
      return modifiers.weight === undefined ? base : modifiers.weight(name, base);
    };
    const d = config.dim;
    const items = embeddingLookup(w('item_embedding') as tf.Tensor2D, ids);
    let x = tf.reshape<tf.Rank.R2>(tf.add(items, w('position_embedding')), [batch * len, d]);
    if (modifiers.embeddingOutput !== undefined) x = modifiers.embeddingOutput(x);
    const mask = causalPaddingMask(ids, PAD_ID);

    const prompt = modifiers.prompt;
    let promptState = prompt?.vectors;
    const promptMask = prompt === undefined ? undefined : causalPaddingMask(tf.ones([1, prompt.vectors.shape[0]], 'int32'), PAD_ID);

    const blockRows: tf.Tensor2D[] = [];
    for (let b = 0; b < config.blocks; b++) {
      const block = this.blockWeights(b, w);
      let memory: { keys: tf.Tensor2D; values: tf.Tensor2D; gate: tf.Tensor1D } | undefined;
      if (prompt !== undefined && promptState !== undefined && promptMask !== undefined) {
        // Prompt positions come first, so causality means they never see the items: their
        // stream is the same for every sequence and is computed once, with batch 1.
        const pn = this.layerNorm(promptState, block.ln1Gamma, block.ln1Beta);
        memory = {
          keys: tf.add<tf.Tensor2D>(matMul(pn, block.attn.wk as tf.Tensor2D), block.attn.bk),
          values: tf.add<tf.Tensor2D>(matMul(pn, block.attn.wv as tf.Tensor2D), block.attn.bv),
          gate: prompt.gates[b] ?? tf.zeros([config.heads]),
        };
        promptState = this.block(b, promptState, 1, prompt.vectors.shape[0], block, promptMask, modifiers);
      }
      const input = x;
      const lastQueryOnly = lastOnly && b === config.blocks - 1;
      const step = (): tf.Tensor2D => this.block(b, input, batch, len, block, mask, modifiers, memory, lastQueryOnly);
      x = release ? tf.tidy(step) : step();
      blockRows.push(x);
    }
    const rows = this.layerNorm(x, w('final_ln.gamma'), w('final_ln.beta'));
    return { rows, blockRows, batch, len };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('backbone used after dispose()');
  }

  private blockWeights(b: number, w: (name: string) => tf.Tensor) {
    const p = blockPrefix(b);
    const attn: AttentionWeights = {
      wq: w(`${p}.attn.wq`),
      bq: w(`${p}.attn.bq`),
      wk: w(`${p}.attn.wk`),
      bk: w(`${p}.attn.bk`),
      wv: w(`${p}.attn.wv`),
      bv: w(`${p}.attn.bv`),
      wo: w(`${p}.attn.wo`),
      bo: w(`${p}.attn.bo`),
    };
    return {
      attn,
      ln1Gamma: w(`${p}.ln1.gamma`),
      ln1Beta: w(`${p}.ln1.beta`),
      ln2Gamma: w(`${p}.ln2.gamma`),
      ln2Beta: w(`${p}.ln2.beta`),
      w1: w(`${p}.ffn.w1`) as tf.Tensor2D,
      b1: w(`${p}.ffn.b1`),
      w2: w(`${p}.ffn.w2`) as tf.Tensor2D,
      b2: w(`${p}.ffn.b2`),
    };
  }

  /** Pre-LN block on rows x [B*L, d]: x + Attn(LN(x)), then x + FFN(LN(x)); [B, d] of the last rows with `lastQueryOnly`. */
  private block(
    b: number,
    x: tf.Tensor2D,
    batch: number,
    len: number,
    wt: ReturnType<Backbone['blockWeights']>,
    mask: tf.Tensor4D,
    modifiers: BackboneModifiers,
    memory?: { keys: tf.Tensor2D; values: tf.Tensor2D; gate: tf.Tensor1D },
    lastQueryOnly = false,
  ): tf.Tensor2D {
    const xn = this.layerNorm(x, wt.ln1Gamma, wt.ln1Beta);
    let attn = multiHeadAttention(xn, batch, len, this.config.heads, wt.attn, mask, memory, lastQueryOnly);
    if (modifiers.attentionOutput !== undefined) attn = modifiers.attentionOutput(b, attn);
    const x1 = tf.add<tf.Tensor2D>(lastQueryOnly ? lastRows(x, batch, len) : x, attn);
    const hn = this.layerNorm(x1, wt.ln2Gamma, wt.ln2Beta);
    const inner = gelu(tf.add(matMul(hn, wt.w1), wt.b1));
    let ffn = tf.add<tf.Tensor2D>(matMul(inner as tf.Tensor2D, wt.w2), wt.b2);
    if (modifiers.ffnOutput !== undefined) ffn = modifiers.ffnOutput(b, ffn);
    return tf.add<tf.Tensor2D>(x1, ffn);
  }

  private layerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.config.layerNormEpsilon)));
    return tf.add<tf.Tensor2D>(tf.mul(normed, gamma), beta);
  }
}

/** GELU, sigmoid approximation: one cheap elementwise kernel on every backend. */
function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
}

function initialValues(spec: WeightSpec, rng: Rng): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  switch (spec.kind) {
    case 'gamma':
      out.fill(1);
      return out;
    case 'beta':
    case 'bias':
      return out;
    case 'embedding': {
      // Unit-scale rows after the first LayerNorm; 1/sqrt(d) keeps the tied output logits O(1).
      const std = 1 / Math.sqrt(spec.shape[1] ?? 1);
      for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
      return out;
    }
    case 'matrix': {
      // Glorot uniform.
      const [fanIn = 1, fanOut = 1] = spec.shape;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) out[i] = (rng.next() * 2 - 1) * limit;
      return out;
    }
  }
}
