// onnx-proto is CommonJS (a protobufjs static module): Node's ESM loader sees only its default
// export, so the value comes through that and the types through a type-only import.
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';

const proto = onnxProto.onnx;

/**
 * A small builder for ONNX graphs, so the backbone exporter reads like the TF.js forward it
 * mirrors (`g.matMul(x, w)`, `g.layerNorm(...)`) instead of like protobuf plumbing.
 *
 * Only what the exporter needs is here: float32 / int64 / int32 / bool initializers stored as
 * `raw_data` (little-endian, the encoding ONNX specifies), nodes of the default domain, and
 * graph inputs/outputs with a symbolic batch dimension. Value names are generated from a
 * caller-supplied stem plus a counter, so every name is unique and still says what it holds.
 */

/** The ONNX IR version matching opset 17 (ONNX 1.12); onnxruntime 1.30 loads both. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** Integer attributes must be written as INT(S), float ones as FLOAT(S): the caller says which. */
export type Attributes = Record<string, { int: number } | { ints: number[] } | { float: number } | { string: string }>;

/** One dimension of a graph input/output: a fixed size, or a symbolic name such as 'batch'. */
export type Dim = number | string;

export type ElementType = 'float32' | 'int32' | 'int64' | 'bool';

const ELEMENT_TYPES: Record<ElementType, onnx.TensorProto.DataType> = {
  float32: proto.TensorProto.DataType.FLOAT,
  int32: proto.TensorProto.DataType.INT32,
  int64: proto.TensorProto.DataType.INT64,
  bool: proto.TensorProto.DataType.BOOL,
};

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('ONNX export writes raw_data and assumes a little-endian machine');
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  // A copy, not a view: the caller's array (e.g. a TF.js tensor's data) may be reused later.
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

function attribute(name: string, value: Attributes[string]): onnx.IAttributeProto {
  const T = proto.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('ints' in value) return { name, type: T.INTS, ints: value.ints };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}

function valueInfo(name: string, type: ElementType, dims: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor() {
    assertLittleEndian();
  }

  /** A fresh value name `stem` (or `stem_N` when `stem` is taken). */
  fresh(stem: string): string {
    let name = stem;
    while (this.names.has(name)) name = `${stem}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, type: ElementType, dims: readonly Dim[]): string {
    if (this.names.has(name)) throw new Error(`ONNX graph already has a value named ${name}`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Declares `value` as a graph output under `name`. An Identity node renames it, so the graph's
   * output names are fixed by the caller while internal names stay generated.
   */
  output(value: string, name: string, type: ElementType, dims: readonly Dim[]): void {
    if (this.names.has(name)) throw new Error(`ONNX graph already has a value named ${name}`);
    this.names.add(name);
    this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `${name}/identity` });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A constant tensor stored in the model (a weight, a shape, an index, a mask). */
  initializer(stem: string, type: ElementType, dims: readonly number[], values: ArrayLike<number> | ArrayLike<boolean>): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`initializer ${stem}: ${values.length} values for shape [${dims.join(', ')}]`);
    const name = this.fresh(stem);
    let raw: Uint8Array;
    switch (type) {
      case 'float32':
        raw = bytesOf(Float32Array.from(values as ArrayLike<number>));
        break;
      case 'int32':
        raw = bytesOf(Int32Array.from(values as ArrayLike<number>));
        break;
      case 'int64':
        raw = bytesOf(BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(v))));
        break;
      case 'bool':
        raw = Uint8Array.from(Array.from(values as ArrayLike<boolean>, (v) => (v ? 1 : 0)));
        break;
    }
    this.initializers.push({ name, dataType: ELEMENT_TYPES[type], dims: [...dims], rawData: raw });
    return name;
  }

  /** A float32 weight: `values` is copied, so the caller may free its source afterwards. */
  weight(stem: string, dims: readonly number[], values: Float32Array): string {
    return this.initializer(stem, 'float32', dims, values);
  }

  scalar(stem: string, value: number, type: 'float32' | 'int64' = 'float32'): string {
    return this.initializer(stem, type, [], [value]);
  }

  ints(stem: string, values: readonly number[]): string {
    return this.initializer(stem, 'int64', [values.length], values);
  }

  /** Appends one node of the default ONNX domain; returns its output names. */
  node(opType: string, inputs: readonly string[], outputStems: readonly string[], attributes: Attributes = {}): string[] {
    const output = outputStems.map((s) => this.fresh(s));
    this.nodes.push({
      opType,
      input: [...inputs],
      output,
      name: `${opType}/${output[0] ?? ''}`,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** `node` for the common single-output case. */
  op(opType: string, inputs: readonly string[], stem: string, attributes: Attributes = {}): string {
    return this.node(opType, inputs, [stem], attributes)[0] as string;
  }

  toModel(options: { graphName: string; producerName: string; docString?: string }): onnx.ModelProto {
    return proto.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: options.producerName,
      docString: options.docString ?? '',
      graph: {
        name: options.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  /** The serialised ModelProto, ready for `InferenceSession.create(bytes)`. */
  encode(options: { graphName: string; producerName: string; docString?: string }): Uint8Array {
    return proto.ModelProto.encode(this.toModel(options)).finish();
  }
}
