// The frozen backbone on ONNX Runtime. Nothing here loads onnxruntime-node at import time: the
// runner imports it on first use (loadOnnxRuntime), so @reco/model stays importable, and the
// TF.js runner usable, where the native binding cannot load.
export {
  ONNX_IDS_INPUT,
  ONNX_USER_STATE_OUTPUT,
  buildBackboneOnnx,
  exportBackboneOnnx,
  onnxBlockOutputName,
} from './backbone-onnx.js';
export { ONNX_IR_VERSION, ONNX_OPSET } from './onnx-graph.js';
export { OrtBackboneRunner, loadOnnxRuntime, type OnnxRuntimeModule, type OrtBackboneRunnerOptions } from './ort-runner.js';
export {
  BACKBONE_ENGINES,
  createBackboneRunner,
  isBackboneEngine,
  type BackboneEngine,
  type BackboneRunnerChoice,
  type CreateBackboneRunnerOptions,
} from './create-runner.js';
export { DEFAULT_ORT_PROVIDERS, createOrtSession, parseOrtProviders, type OrtSession, type OrtSessionSettings } from './ort-session.js';
export { OrtItemRanker, buildItemRankerOnnx, type ItemRanker, type RankedRows, type RankedSlots, type RankerTable } from './ort-item-ranker.js';
export { BatchingItemRanker } from './batching-item-ranker.js';
