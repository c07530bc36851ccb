import * as tf from '@tensorflow/tfjs-core';
import type { Backbone } from '../backbone.js';
import { PAD_ID, UNK_ID } from '../backbone-config.js';
import type { BackboneModifiers } from '../backbone-modifiers.js';
import type { ItemCatalogue } from '../item-catalogue.js';
import { matMul } from '../matmul.js';
import type { SequenceBatch } from '../sequence-batch.js';
import { SideItemParameters } from '../side-items.js';
import type { AdaptationMethod, MethodName, NamedTensor, ParameterCount, PreparedInput, SerializedAdaptation } from './adaptation-method.js';

/** Input of the methods that run the backbone themselves (inside the tape): the ids tensor. */
export class IdsInput implements PreparedInput {
  readonly batchSize: number;
  readonly ids: tf.Tensor2D;

  constructor(batch: SequenceBatch) {
    this.batchSize = batch.batchSize;
    this.ids = tf.tensor2d(batch.ids, [batch.batchSize, batch.maxLen], 'int32');
  }

  dispose(): void {
    this.ids.dispose();
  }
}

/**
 * What every method shares: the side parameters, scoring, snapshot (de)serialisation and the
 * bookkeeping of named variables. A subclass creates its variables through `addVariable`
 * (so they are counted, serialised and disposed) and says how the user state is computed.
 */
export abstract class AdaptationBase implements AdaptationMethod {
  abstract readonly name: MethodName;
  readonly side: SideItemParameters;
  private readonly own = new Map<string, tf.Variable>();
  private disposed = false;

  constructor(
    readonly backbone: Backbone,
    readonly catalogue: ItemCatalogue,
    private readonly trainSide = true,
  ) {
    this.side = new SideItemParameters(catalogue, backbone.config.dim);
  }

  /** Hyper-parameters that determine the shapes; stored in snapshots. */
  abstract options(): Record<string, number>;

  abstract userState(input: PreparedInput): tf.Tensor2D;

  protected addVariable(name: string, initial: tf.Tensor): tf.Variable {
    if (this.own.has(name)) throw new Error(`${this.name}: variable ${name} defined twice`);
    const v = tf.variable(initial, true);
    initial.dispose();
    this.own.set(name, v);
    return v;
  }

  protected variable(name: string): tf.Variable {
    const v = this.own.get(name);
    if (v === undefined) throw new Error(`${this.name}: no variable ${name}`);
    return v;
  }

  /** The user state the frozen backbone (optionally modified) gives for an ids batch. */
  protected backboneState(input: PreparedInput, modifiers?: BackboneModifiers): tf.Tensor2D {
    if (!(input instanceof IdsInput)) throw new Error(`${this.name}: expected an input from its own prepare()`);
    return this.backbone.lastStates(input.ids, modifiers).userState;
  }

  parameterCount(): ParameterCount {
    const method = [...this.own.values()].reduce((n, v) => n + v.size, 0);
    const side = this.side.parameterCount;
    return { method, side, trainable: this.trainSide ? method + side : method };
  }

  trainableVariables(): tf.Variable[] {
    const vars = [...this.own.values()];
    return this.trainSide ? [...vars, ...this.side.variables().values()] : vars;
  }

  sideVariables(): tf.Variable[] {
    return this.trainSide ? [...this.side.variables().values()] : [];
  }

  newItemVariables(): tf.Variable[] {
    return this.trainSide ? [this.side.newItemEmbedding] : [];
  }

  async prepare(batch: SequenceBatch): Promise<PreparedInput> {
    return new IdsInput(batch);
  }

  /** The backbone's item table as this method sees it (full fine-tuning uses its own copy). */
  protected backboneItemTable(): tf.Tensor2D {
    return this.backbone.weight('item_embedding') as tf.Tensor2D;
  }

  itemTable(): tf.Tensor2D {
    return this.side.outputTable(this.backboneItemTable());
  }

  itemBias(): tf.Tensor1D {
    return this.side.bias();
  }

  coVisitWeight(): tf.Tensor1D {
    return this.side.coVisitWeight as tf.Tensor1D;
  }

  scores(input: PreparedInput): tf.Tensor2D {
    return this.scoresAt(this.userState(input));
  }

  scoresAt(h: tf.Tensor2D): tf.Tensor2D {
    const logits = tf.add(matMul(h, tf.transpose(this.itemTable())), this.itemBias());
    const mask = new Float32Array(this.catalogue.numSlots);
    mask[PAD_ID] = -Infinity;
    mask[UNK_ID] = -Infinity;
    return tf.add<tf.Tensor2D>(logits, tf.tensor1d(mask));
  }

  private namedVariables(): Map<string, tf.Variable> {
    return new Map([...this.own, ...this.side.variables()]);
  }

  async serialize(): Promise<SerializedAdaptation> {
    const tensors: NamedTensor[] = [];
    for (const [name, v] of this.namedVariables()) {
      tensors.push({ name, shape: [...v.shape], values: Float32Array.from((await v.data()) as Float32Array) });
    }
    return {
      method: this.name,
      options: this.options(),
      sideCapacity: this.catalogue.sideCapacity,
      sideItemIds: this.catalogue.sideItemIds(),
      tensors,
    };
  }

  load(snapshot: SerializedAdaptation): void {
    if (snapshot.method !== this.name) throw new Error(`snapshot is for method ${snapshot.method}, not ${this.name}`);
    const options = this.options();
    for (const [key, value] of Object.entries(options)) {
      if (snapshot.options[key] !== value) throw new Error(`${this.name} snapshot has ${key}=${String(snapshot.options[key])}, expected ${value}`);
    }
    if (snapshot.sideCapacity !== this.catalogue.sideCapacity) {
      throw new Error(`snapshot side capacity ${snapshot.sideCapacity} differs from the catalogue's ${this.catalogue.sideCapacity}`);
    }
    const current = this.catalogue.sideItemIds();
    snapshot.sideItemIds.forEach((id, i) => {
      if (current[i] !== id) throw new Error(`snapshot side slot ${i} holds ${id}, the catalogue ${String(current[i])}`);
    });
    const vars = this.namedVariables();
    const given = new Map(snapshot.tensors.map((t) => [t.name, t]));
    for (const name of given.keys()) if (!vars.has(name)) throw new Error(`${this.name} snapshot has unknown tensor ${name}`);
    // Validate everything before assigning anything, so a bad snapshot leaves the method untouched.
    for (const [name, v] of vars) {
      const t = given.get(name);
      if (t === undefined) throw new Error(`${this.name} snapshot lacks tensor ${name}`);
      if (t.shape.join('x') !== v.shape.join('x') || t.values.length !== v.size) {
        throw new Error(`${this.name} snapshot tensor ${name} has shape [${t.shape.join(', ')}], expected [${v.shape.join(', ')}]`);
      }
      const bad = t.values.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new Error(`${this.name} snapshot tensor ${name} holds ${String(t.values[bad])} at index ${bad}`);
    }
    for (const [name, v] of vars) {
      const t = given.get(name) as NamedTensor;
      tf.tidy(() => v.assign(tf.tensor(t.values, t.shape, 'float32')));
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.own.values()) v.dispose();
    this.own.clear();
    this.side.dispose();
  }
}
