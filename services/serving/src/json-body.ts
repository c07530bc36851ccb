import type { FastifyInstance } from 'fastify';
import { ServingError } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Deepest nesting this route's JSON body may have (default MAX_JSON_DEPTH), or `false` when
     * the route judges each item of a batch itself, so that one hostile item cannot take its
     * valid siblings down with it (POST /v1/events).
     */
    jsonDepthLimit?: number | false;
  }
}

/**
 * No request body of this API is deeper than 3 levels (`{events: [{...}]}`). The limit is far
 * above that and far below where recursive code (JSON.stringify, loggers, serializers) runs out
 * of stack, around 4,000 levels here: JSON.parse itself is iterative and would accept 100,000.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Where `text` first nests deeper than `limit` (the character index), or undefined. One pass,
 * no allocation: brackets inside strings do not count, escapes inside strings are skipped. Text
 * that is not JSON gets some answer here and its real verdict from the parser.
 */
export function nestingExceeds(text: string, limit: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i += 1;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth += 1;
      if (depth > limit) return i;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth -= 1;
  }
  return undefined;
}

/**
 * Replaces Fastify's JSON body parser with the same parser behind a depth check, so a hostile
 * body is a 400 RECO_ERR_JSON_TOO_DEEP before anything walks it. Prototype-poisoning keys stay
 * refused, as with Fastify's default.
 */
export function useJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    const limit = request.routeOptions.config.jsonDepthLimit ?? MAX_JSON_DEPTH;
    const at = limit === false ? undefined : nestingExceeds(text, limit);
    if (limit !== false && at !== undefined) {
      const message = `the body nests deeper than ${limit} levels (at character ${at}); at most ${limit} levels are accepted`;
      done(new ServingError('RECO_ERR_JSON_TOO_DEEP', message, { issues: [{ field: '$', message }] }), undefined);
      return;
    }
    // Fastify's parser answers through `done`; it returns nothing to wait for.
    void parse(request, text, done);
  });
}
