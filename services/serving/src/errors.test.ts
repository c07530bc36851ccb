import { readFileSync } from 'node:fs';
import Fastify, { errorCodes, type FastifyError } from 'fastify';
import { describe, expect, it } from 'vitest';
import { MAX_PARAM_LENGTH } from './app.js';
import { errorHandler } from './error-handler.js';
import { SERVING_ERRORS, type ServingErrorCode } from './errors.js';
import { MAX_JSON_DEPTH } from './json-body.js';
import { ServingMetrics } from './metrics.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('catalogues are documented', () => {
  it('every error code is in the README with its status', () => {
    for (const [code, spec] of Object.entries(SERVING_ERRORS)) expect(readme).toContain(`| \`${code}\` | ${spec.status} |`);
  });

  it('the limits the catalogue and the README promise are the ones the app applies', () => {
    expect(SERVING_ERRORS.RECO_ERR_JSON_TOO_DEEP.description).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    expect(readme).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    expect(SERVING_ERRORS.RECO_ERR_URI_TOO_LONG.description).toContain(`(${MAX_PARAM_LENGTH} characters)`);
    expect(readme).toContain(`a path parameter over ${MAX_PARAM_LENGTH} characters`);
  });

  it('every error Fastify can raise is answered with a catalogue code, its status, and no 5xx for a client error', async () => {
    const app = Fastify();
    app.setErrorHandler(errorHandler);
    app.get('/raise/:code', async (request) => {
      const Code = errorCodes[(request.params as { code: keyof typeof errorCodes }).code];
      throw new Code();
    });
    try {
      const codes = Object.keys(errorCodes) as (keyof typeof errorCodes)[];
      expect(codes.length).toBeGreaterThan(50);
      for (const code of codes) {
        const raised: FastifyError = new errorCodes[code]();
        const res = await app.inject({ url: `/raise/${code}` });
        const body = res.json<{ code: ServingErrorCode }>();
        expect(Object.keys(SERVING_ERRORS), code).toContain(body.code);
        expect(res.statusCode, code).toBe(SERVING_ERRORS[body.code].status);
        expect(res.statusCode >= 500, `${code} (${raised.statusCode}) -> ${res.statusCode} ${body.code}`).toBe((raised.statusCode ?? 500) >= 500);
      }
    } finally {
      await app.close();
    }
  });

  it('every reco_* metric is in the README', async () => {
    const metrics = new ServingMetrics({ defaultMetrics: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      expect(name).toMatch(/^reco_/);
      expect(readme).toContain(`| \`${name}\` |`);
    }
  });
});
