export { buildApp, type ServingDeps } from './app.js';
export { readServingConfig, type ServingConfig } from './config.js';
export { SERVING_ERRORS, ServingError, type ServingErrorCode } from './errors.js';
export { LiveModel, type LiveModelMeta } from './live-model.js';
export { LiveModels } from './live-models.js';
export { ServingMetrics } from './metrics.js';
export { startServingRuntime, type ServingRuntime } from './runtime.js';
