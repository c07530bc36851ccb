export { buildApp, type UpdaterDeps } from './app.js';
export { readUpdaterConfig, type UpdaterConfig } from './config.js';
