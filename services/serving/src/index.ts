export { buildApp, type ServingDeps } from './app.js';
export { readServingConfig, type ServingConfig } from './config.js';
