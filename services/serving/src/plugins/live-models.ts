import fp from 'fastify-plugin';
import type { LiveModels } from '../live-models.js';

declare module 'fastify' {
  interface FastifyInstance {
    models: LiveModels;
  }
}

/**
 * The live models as a shared resource. Closing the app retires every version; Fastify closes
 * only after in-flight requests have finished, and a version still leased is freed on release.
 */
export const liveModelsPlugin = fp<{ models: LiveModels }>(
  async (app, { models }) => {
    app.decorate('models', models);
    app.addHook('onClose', async () => {
      models.close();
    });
  },
  { name: 'reco-live-models' },
);
