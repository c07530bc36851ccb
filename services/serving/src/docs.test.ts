import { describe, expect, it } from 'vitest';
import { useFileHarness } from './testing/harness.js';

const file = useFileHarness();

describe('API documentation', () => {
  it('/docs is Swagger UI, with its assets served by this replica', async () => {
    for (const url of ['/docs', '/docs/']) {
      const page = await file.h.app.inject({ url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('swagger-ui');
    }
    // The page is only useful if the bundle and the initializer pointing it at the document load.
    const bundle = await file.h.app.inject({ url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    const init = await file.h.app.inject({ url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('json');
  });

  it('/docs/json is the OpenAPI document with every route and the admin token scheme, and none of the docs routes', async () => {
    const res = await file.h.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { security?: unknown }>>; components: { securitySchemes: Record<string, unknown> } }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/recommendations', '/v1/events', '/v1/models', '/v1/models/{variant}/rollback', '/healthz', '/readyz']));
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/docs'))).toEqual([]);
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/models/{variant}/rollback']?.post?.security).toEqual([{ adminToken: [] }]);
    expect((await file.h.app.inject({ url: '/docs/yaml' })).body).toMatch(/^openapi: 3\./m);
  });

  it('a missing asset under /docs is a catalogue 404, and no path leaves the assets folder', async () => {
    const res = await file.h.app.inject({ url: '/docs/static/nothing-here.js' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'RECO_ERR_NOT_FOUND' });
    for (const url of ['/docs/static/../package.json', '/docs/static/%2e%2e/%2e%2e/package.json', '/docs/static/..%2f..%2fpackage.json', '/docs/static/%00', '/docs/static/%2e%2e%5cpackage.json']) {
      const odd = await file.h.app.inject({ url });
      expect(odd.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(odd.statusCode, url).toBeLessThan(500);
      expect(odd.json<{ code: string }>().code, url).toMatch(/^RECO_ERR_/);
      expect(odd.body, url).not.toContain('"dependencies"');
    }
  });
});
