import { Ajv, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const common: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };

/**
 * Two Ajv instances instead of Fastify's one: query strings and path parameters arrive as text,
 * so they are coerced (`k=5` is the number 5); JSON bodies already carry types and are not, so
 * `history: ["a", 7]` is a 400 naming `history[1]` rather than a silent "7". Both report every
 * invalid field (allErrors) and treat unknown fields as errors instead of dropping them.
 */
export function validatorCompiler(): FastifySchemaCompiler<object> {
  const strict = new Ajv({ ...common, coerceTypes: false });
  const coercing = new Ajv({ ...common, coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}
