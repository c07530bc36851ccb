import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@reco/data';
import type { Backbone } from '../backbone.js';
import { type BackboneRunOutput, type BackboneRunner, TfjsBackboneRunner } from '../backbone-runner.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import { matMul } from '../matmul.js';
import type { SequenceBatch } from '../sequence-batch.js';
import { AdaptationBase } from './adaptation-base.js';
import type { PreparedInput } from './adaptation-method.js';
import { glorotUniform } from './init.js';

export interface LadderOptions {
  /** Side width is d / reduction; default 8. */
  reduction?: number;
  /** Gate temperature T in sigmoid(alpha / T); default 0.1 (as in Ladder Side-Tuning). */
  temperature?: number;
  rng: Rng;
  /** The frozen forward; default a TF.js runner on `backbone`. A faster engine plugs in here. */
  runner?: BackboneRunner;
}

/**
 * The backbone's outputs for a batch, as constants: plain tensors made from the runner's
 * arrays, never variables, so no gradient is computed for them and none can reach the backbone.
 */
export class LadderInput implements PreparedInput {
  readonly batchSize: number;
  readonly userState: tf.Tensor2D;
  readonly blockOutputs: tf.Tensor2D[];

  constructor(out: BackboneRunOutput) {
    this.batchSize = out.batchSize;
    this.userState = tf.tensor2d(out.userState, [out.batchSize, out.dim]);
    this.blockOutputs = out.blockOutputs.map((o) => tf.tensor2d(o, [out.batchSize, out.dim]));
  }

  dispose(): void {
    this.userState.dispose();
    for (const t of this.blockOutputs) t.dispose();
  }
}

/**
 * Ladder Side-Tuning. A side network of width s = d / r runs beside the frozen backbone:
 *   z_0 = 0
 *   for each block b:  l_b = norm(out_b) · D_b + c_b                  (ladder connection)
 *                      mu_b = sigmoid(alpha_b / T)                      (learned gate)
 *                      z_b = mu_b ⊙ z_{b-1} + (1 - mu_b) ⊙ l_b
 *                      z_b = z_b + gelu(z_b · W_b + e_b)                (side block)
 *   h' = h + z_B · U + u                                                (U, u start at zero)
 * `out_b` is block b's output at the last position, taken from the runner, so the backbone's
 * forward happens in `prepare()`, before and outside the optimiser's tape. Identity at start
 * comes from the zero up-projection: h + 0 = h exactly. The gates start half open
 * (alpha = 0) rather than closed over the ladder: with z_0 = 0 a gate closed to the ladder
 * would keep z at zero, U would get no gradient and the side network would never start.
 */
export class LadderMethod extends AdaptationBase {
  readonly name = 'ladder' as const;
  readonly reduction: number;
  readonly width: number;
  readonly temperature: number;
  readonly runner: BackboneRunner;
  private readonly ownsRunner: boolean;

  constructor(backbone: Backbone, catalogue: ItemCatalogue, options: LadderOptions) {
    super(backbone, catalogue);
    const d = backbone.config.dim;
    this.reduction = options.reduction ?? 8;
    this.temperature = options.temperature ?? 0.1;
    this.width = Math.max(1, Math.round(d / this.reduction));
    this.runner = options.runner ?? new TfjsBackboneRunner(backbone);
    this.ownsRunner = options.runner === undefined;
    const s = this.width;
    for (let b = 0; b < backbone.config.blocks; b++) {
      this.addVariable(`ladder.block${b}.down`, glorotUniform([d, s], options.rng));
      this.addVariable(`ladder.block${b}.down_bias`, tf.zeros([s]));
      this.addVariable(`ladder.block${b}.alpha`, tf.zeros([s]));
      this.addVariable(`ladder.block${b}.side`, glorotUniform([s, s], options.rng));
      this.addVariable(`ladder.block${b}.side_bias`, tf.zeros([s]));
    }
    this.addVariable('ladder.up', tf.zeros([s, d]));
    this.addVariable('ladder.up_bias', tf.zeros([d]));
  }

  options(): Record<string, number> {
    return { reduction: this.reduction, width: this.width, temperature: this.temperature };
  }

  /** A copy of one of the side network's weights as a plain array (e.g. for a TF.js-free scorer). */
  weightValues(name: string): Float32Array {
    return Float32Array.from(this.variable(name).dataSync() as Float32Array);
  }

  override async prepare(batch: SequenceBatch): Promise<PreparedInput> {
    return new LadderInput(await this.runner.run(batch));
  }

  /** For callers that already hold the runner's output (e.g. cached with a replayed example). */
  prepareFromRunOutput(out: BackboneRunOutput): PreparedInput {
    return new LadderInput(out);
  }

  userState(input: PreparedInput): tf.Tensor2D {
    if (!(input instanceof LadderInput)) throw new Error('ladder: expected an input from its own prepare()');
    let z: tf.Tensor2D = tf.zeros([input.batchSize, this.width]);
    input.blockOutputs.forEach((out, b) => {
      const p = `ladder.block${b}`;
      const { mean, variance } = tf.moments(out, -1, true);
      const normed = tf.mul<tf.Tensor2D>(tf.sub(out, mean), tf.rsqrt(tf.add(variance, 1e-5)));
      const ladder = tf.add(matMul(normed, this.variable(`${p}.down`) as tf.Tensor2D), this.variable(`${p}.down_bias`));
      const mu = tf.sigmoid(tf.div(this.variable(`${p}.alpha`), this.temperature));
      z = tf.add<tf.Tensor2D>(tf.mul(mu, z), tf.mul(tf.sub(1, mu), ladder));
      const pre = tf.add(matMul(z, this.variable(`${p}.side`) as tf.Tensor2D), this.variable(`${p}.side_bias`));
      z = tf.add<tf.Tensor2D>(z, tf.mul(pre, tf.sigmoid(tf.mul(pre, 1.702))));
    });
    const delta = tf.add(matMul(z, this.variable('ladder.up') as tf.Tensor2D), this.variable('ladder.up_bias'));
    return tf.add<tf.Tensor2D>(input.userState, delta);
  }

  override dispose(): void {
    if (this.ownsRunner) this.runner.dispose();
    super.dispose();
  }
}
