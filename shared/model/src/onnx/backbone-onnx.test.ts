import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRng } from '@reco/data';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { Backbone } from '../backbone.js';
import { ONNX_IDS_INPUT, ONNX_USER_STATE_OUTPUT, exportBackboneOnnx, onnxBlockOutputName } from './backbone-onnx.js';
import { ONNX_IR_VERSION, ONNX_OPSET } from './onnx-graph.js';

const proto = onnxProto.onnx;
const config = { numItems: 17, dim: 12, blocks: 3, heads: 3, maxLen: 7, ffnDim: 20, layerNormEpsilon: 1e-5 };
let backbone: Backbone;
let model: onnx.ModelProto;
let graph: onnx.IGraphProto;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  backbone = Backbone.random(config, createRng(12));
  model = proto.ModelProto.decode(await exportBackboneOnnx(backbone));
  graph = model.graph ?? {};
});

afterAll(() => backbone.dispose());

function describeValue(v: onnx.IValueInfoProto) {
  const t = v.type?.tensorType;
  return { name: v.name, elemType: t?.elemType, dims: (t?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue)) };
}

describe('exportBackboneOnnx', () => {
  it('decodes as an opset-17 ModelProto with int32 ids in and float32 [batch, d] rows out', () => {
    expect(Number(model.irVersion)).toBe(ONNX_IR_VERSION);
    expect(model.opsetImport.map((o) => ({ domain: o.domain ?? '', version: Number(o.version) }))).toEqual([{ domain: '', version: ONNX_OPSET }]);
    const { INT32, FLOAT } = proto.TensorProto.DataType;
    expect((graph.input ?? []).map(describeValue)).toEqual([{ name: ONNX_IDS_INPUT, elemType: INT32, dims: ['batch', config.maxLen] }]);
    const outputs = [...Array.from({ length: config.blocks }, (_, b) => onnxBlockOutputName(b)), ONNX_USER_STATE_OUTPUT];
    expect((graph.output ?? []).map(describeValue)).toEqual(outputs.map((name) => ({ name, elemType: FLOAT, dims: ['batch', config.dim] })));
    // Standard operators only: any ONNX runtime can load it, not just ORT with its contrib ops.
    for (const node of graph.node ?? []) expect(node.domain ?? '').toBe('');
  });

  it('stores every weight once, as little-endian raw_data equal to the backbone (Wq, bq pre-scaled)', async () => {
    const byName = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
    const scale = 1 / Math.sqrt(config.dim / config.heads);
    for (const spec of backbone.specs) {
      const t = byName.get(spec.name);
      expect(t, spec.name).toBeDefined();
      expect((t?.dims ?? []).map(Number)).toEqual(spec.shape);
      expect(t?.dataType).toBe(proto.TensorProto.DataType.FLOAT);
      const raw = t?.rawData ?? new Uint8Array(0);
      const stored = new Float32Array(Uint8Array.from(raw).buffer);
      const expected = (await backbone.weight(spec.name).data()) as Float32Array;
      const scaled = /\.attn\.[wb]q$/.test(spec.name);
      expect(Array.from(stored)).toEqual(Array.from(expected, (v) => (scaled ? Math.fround(v * scale) : v)));
    }
    for (const t of graph.initializer ?? []) expect(t.floatData ?? []).toHaveLength(0);
  });

  it('computes queries for every position in earlier blocks but only the last position in the last block', () => {
    const producer = new Map((graph.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    const queryInput = (block: number): string | undefined => {
      const matMul = (graph.node ?? []).find((n) => n.opType === 'MatMul' && n.input?.[1] === `block${block}.attn.wq`);
      return producer.get(matMul?.input?.[0] ?? '')?.opType ?? undefined;
    };
    for (let b = 0; b < config.blocks - 1; b++) expect(queryInput(b)).toBe('LayerNormalization');
    expect(queryInput(config.blocks - 1)).toBe('Gather');
    // And the final LayerNorm runs on the last block's [batch, d] output, not on every position.
    const finalLn = (graph.node ?? []).find((n) => n.opType === 'LayerNormalization' && n.input?.[1] === 'final_ln.gamma');
    const lastBlockOut = (graph.node ?? []).find((n) => n.output?.[0] === onnxBlockOutputName(config.blocks - 1));
    expect(finalLn?.input?.[0]).toBe(lastBlockOut?.input?.[0]);
  });

  it('importing @reco/model does not load onnxruntime-node (it is loaded on first use)', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).filter((k) => k.includes('onnxruntime-node')).length;
      const model = await import(${JSON.stringify(fileURLToPath(new URL('../index.ts', import.meta.url)))});
      const before = loaded();
      await model.loadOnnxRuntime();
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@reco/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../../..', import.meta.url)),
    });
    const { before, after } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { before: number; after: number };
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  });
});
