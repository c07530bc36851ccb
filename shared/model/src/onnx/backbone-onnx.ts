import type { Backbone } from '../backbone.js';
import { type BackboneConfig, PAD_ID, backboneWeightSpecs, blockPrefix } from '../backbone-config.js';
import { OnnxGraphBuilder } from './onnx-graph.js';

/**
 * The frozen backbone as an ONNX model, built here from its weights (no Python, no converter),
 * so ONNX Runtime can serve the forward that the ladder reads.
 *
 * Contract (what `OrtBackboneRunner` feeds and fetches):
 * - input `ids`: int32 [batch, maxLen], left-padded with PAD exactly like `SequenceBatch`;
 * - output `user_state`: float32 [batch, d], the final LayerNorm at the last position;
 * - outputs `block_output_<b>`: float32 [batch, d], block b's residual stream at the last position.
 *
 * It computes what `Backbone.forward` computes (see backbone.ts and causal-attention.ts) with the
 * same additive mask, so padding and all-padding rows behave identically. Two things differ, and
 * neither changes a returned value beyond float rounding:
 * - The last block only needs its last row. Keys and values still come from every position, but
 *   the query, attention, output projection, FFN and final LayerNorm run on one row per sequence
 *   instead of maxLen rows, so that block costs little more than its K and V projections (about a
 *   quarter of a full block at ffnDim = 2d) and the final LN 1/maxLen of the full one.
 * - The 1/sqrt(dh) attention scale is folded into Wq and bq at export, which saves one
 *   elementwise pass over every [B, H, L, L] logits tensor.
 */
export const ONNX_IDS_INPUT = 'ids';
export const ONNX_USER_STATE_OUTPUT = 'user_state';

export function onnxBlockOutputName(block: number): string {
  return `block_output_${block}`;
}

/** Same value and reason as causal-attention.ts: a fully masked row must stay finite. */
const MASKED = -1e9;
/** Symbolic batch dimension of the input and outputs. */
const BATCH = 'batch';

/**
 * Serialises `backbone` (weights are copied in: the model does not borrow the backbone, which the
 * caller may dispose afterwards) as an ONNX ModelProto, opset 17.
 */
export async function exportBackboneOnnx(backbone: Backbone): Promise<Uint8Array> {
  const weights = new Map<string, Float32Array>();
  for (const name of backbone.weightNames()) weights.set(name, (await backbone.weight(name).data()) as Float32Array);
  return buildBackboneOnnx(backbone.config, weights);
}

/** The graph itself, from plain arrays keyed by the backbone's weight names (see backbone-config). */
export function buildBackboneOnnx(config: BackboneConfig, weights: ReadonlyMap<string, Float32Array>): Uint8Array {
  const g = new OnnxGraphBuilder();
  const shapes = new Map(backboneWeightSpecs(config).map((s) => [s.name, s.shape]));
  const values = (name: string): Float32Array => {
    const v = weights.get(name);
    if (v === undefined) throw new Error(`ONNX export: backbone weight ${name} is missing`);
    return v;
  };
  const w = (name: string, transform?: (x: Float32Array) => Float32Array): string => {
    const shape = shapes.get(name);
    if (shape === undefined) throw new Error(`ONNX export: ${name} is not a backbone weight`);
    const v = values(name);
    return g.weight(name, shape, transform === undefined ? v : transform(v));
  };

  const { dim: d, heads, maxLen: L, blocks, layerNormEpsilon } = config;
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const scaled = (x: Float32Array): Float32Array => x.map((v) => v * scale);

  const zero = g.scalar('zero', 0);
  const geluAlpha = g.scalar('gelu_alpha', 1.702);
  const masked = g.scalar('masked', MASKED);
  const lastPosition = g.scalar('last_position', L - 1, 'int64');
  const rowsShape = g.ints('rows_shape', [-1, d]);
  const sequenceShape = g.ints('sequence_shape', [-1, L, d]);
  const headsShape = g.ints('heads_shape', [-1, L, heads, dh]);
  const lastQueryShape = g.ints('last_query_shape', [-1, heads, 1, dh]);

  // Rows [B*L, d] like the TF.js forward: 2-D MatMul + Add is what ORT fuses into one Gemm.
  const linear = (x: string, wName: string, bName: string, stem: string, transform?: (x: Float32Array) => Float32Array): string =>
    g.op('Add', [g.op('MatMul', [x, w(wName, transform)], `${stem}_matmul`), w(bName, transform)], stem);
  const layerNorm = (x: string, prefix: string, stem: string): string =>
    g.op('LayerNormalization', [x, w(`${prefix}.gamma`), w(`${prefix}.beta`)], stem, { axis: { int: -1 }, epsilon: { float: layerNormEpsilon } });
  // x * sigmoid(1.702 x), as backbone.ts; ORT recognises the pattern (QuickGelu).
  const gelu = (x: string, stem: string): string => g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, geluAlpha], `${stem}_scaled`)], `${stem}_gate`)], stem);
  /** Rows [B*L, d] to heads: [B, H, L, dh], or [B, H, dh, L] for keys (transposed for Q·Kᵀ). */
  const splitHeads = (x: string, stem: string, transposed = false): string =>
    g.op('Transpose', [g.op('Reshape', [x, headsShape], `${stem}_heads`)], stem, { perm: { ints: transposed ? [0, 2, 3, 1] : [0, 2, 1, 3] } });
  /** Row `L - 1` of every sequence: [B*L, d] rows to [B, d]. */
  const lastRow = (x: string, stem: string): string => g.op('Gather', [g.op('Reshape', [x, sequenceShape], `${stem}_sequences`), lastPosition], stem, { axis: { int: 1 } });
  const ffn = (x1: string, p: string): string => {
    const hn = layerNorm(x1, `${p}.ln2`, `${p}_ln2`);
    const inner = gelu(linear(hn, `${p}.ffn.w1`, `${p}.ffn.b1`, `${p}_ffn_inner`), `${p}_ffn_gelu`);
    return g.op('Add', [x1, linear(inner, `${p}.ffn.w2`, `${p}.ffn.b2`, `${p}_ffn_out`)], `${p}_out`);
  };
  /** softmax(logits + mask) · V, with logits already scaled through Wq. */
  const attend = (q: string, kT: string, v: string, mask: string, p: string): string =>
    g.op('MatMul', [g.op('Softmax', [g.op('Add', [g.op('MatMul', [q, kT], `${p}_logits`), mask], `${p}_masked_logits`)], `${p}_probs`, { axis: { int: -1 } }), v], `${p}_context`);

  const ids = g.input(ONNX_IDS_INPUT, 'int32', [BATCH, L]);
  const items = g.op('Gather', [w('item_embedding'), ids], 'item_vectors', { axis: { int: 0 } });
  let x = g.op('Reshape', [g.op('Add', [items, w('position_embedding')], 'embedded'), rowsShape], 'embedded_rows');

  // Query i may attend key j iff j <= i and j is not padding (causalPaddingMask), as 0 / -1e9.
  // Not a sum of two masks: a padding query (all keys masked) must see the same -1e9 everywhere,
  // as in TF.js, or an all-padding row would come out differently.
  const notPad = g.op(
    'Unsqueeze',
    [g.op('Not', [g.op('Equal', [ids, g.initializer('pad_id', 'int32', [], [PAD_ID])], 'is_pad')], 'not_pad'), g.ints('mask_axes', [1, 2])],
    'not_pad_keys',
  );
  const lastMask = g.op('Where', [notPad, zero, masked], 'last_query_mask'); // [B, 1, 1, L]
  let fullMask: string | undefined;
  if (blocks > 1) {
    const causal = Array.from({ length: L * L }, (_, k) => k % L <= Math.floor(k / L));
    const allowed = g.op('And', [g.initializer('causal', 'bool', [L, L], causal), notPad], 'allowed');
    fullMask = g.op('Where', [allowed, zero, masked], 'mask'); // [B, 1, L, L]
  }

  for (let b = 0; b < blocks - 1; b++) {
    const p = blockPrefix(b);
    const xn = layerNorm(x, `${p}.ln1`, `${p}_ln1`);
    const q = splitHeads(linear(xn, `${p}.attn.wq`, `${p}.attn.bq`, `${p}_q`, scaled), `${p}_q_heads`);
    const kT = splitHeads(linear(xn, `${p}.attn.wk`, `${p}.attn.bk`, `${p}_k`), `${p}_kT_heads`, true);
    const v = splitHeads(linear(xn, `${p}.attn.wv`, `${p}.attn.bv`, `${p}_v`), `${p}_v_heads`);
    const context = attend(q, kT, v, fullMask as string, p);
    const merged = g.op('Reshape', [g.op('Transpose', [context], `${p}_context_positions`, { perm: { ints: [0, 2, 1, 3] } }), rowsShape], `${p}_merged_rows`);
    const attn = linear(merged, `${p}.attn.wo`, `${p}.attn.bo`, `${p}_attn`);
    x = ffn(g.op('Add', [x, attn], `${p}_x1`), p);
    g.output(lastRow(x, `${p}_last`), onnxBlockOutputName(b), 'float32', [BATCH, d]);
  }

  // Last block: keys and values for every position, everything else for the last row only.
  const p = blockPrefix(blocks - 1);
  const xn = layerNorm(x, `${p}.ln1`, `${p}_ln1`);
  const kT = splitHeads(linear(xn, `${p}.attn.wk`, `${p}.attn.bk`, `${p}_k`), `${p}_kT_heads`, true);
  const v = splitHeads(linear(xn, `${p}.attn.wv`, `${p}.attn.bv`, `${p}_v`), `${p}_v_heads`);
  const xLast = lastRow(x, `${p}_in_last`); // [B, d]
  const q = g.op('Reshape', [linear(lastRow(xn, `${p}_ln1_last`), `${p}.attn.wq`, `${p}.attn.bq`, `${p}_q`, scaled), lastQueryShape], `${p}_q_heads`);
  const context = attend(q, kT, v, lastMask, p); // [B, H, 1, dh]: heads already in merge order
  const attn = linear(g.op('Reshape', [context, rowsShape], `${p}_merged_rows`), `${p}.attn.wo`, `${p}.attn.bo`, `${p}_attn`);
  const out = ffn(g.op('Add', [xLast, attn], `${p}_x1`), p);
  g.output(out, onnxBlockOutputName(blocks - 1), 'float32', [BATCH, d]);
  g.output(layerNorm(out, 'final_ln', 'final_ln'), ONNX_USER_STATE_OUTPUT, 'float32', [BATCH, d]);

  return g.encode({
    graphName: 'reco_backbone',
    producerName: '@reco/model',
    docString: `frozen sequential backbone: d=${d}, blocks=${blocks}, heads=${heads}, maxLen=${L}; last-position outputs only`,
  });
}
