import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

/** The admin routes' credential, named in their schemas so Swagger UI's "Authorize" can send it. */
export const ADMIN_SECURITY = [{ adminToken: [] }];

/**
 * The API's documentation, made from the schemas every route already has: the OpenAPI document at
 * `/docs/json` (and `/docs/yaml`) and Swagger UI at `/docs`. Registered before any route, so that
 * @fastify/swagger's onRoute hook sees them all; Swagger UI's own routes stay out of the document.
 * Its assets are served from the package (nothing is fetched from a CDN), so the page works on a
 * machine without internet access.
 */
export const docsPlugin = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        info: { title: 'reco serving', version: '0.1.0', description: 'Recommendations from a frozen backbone with hot-swapped adaptation snapshots; event ingest; the item catalogue.' },
        components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'RECO_ADMIN_TOKEN (npm start prints it).' } } },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  },
  { name: 'reco-docs' },
);
