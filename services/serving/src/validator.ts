import { Ajv, type Options, type SchemaValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { idIssue, MAX_ID_LENGTH } from '@reco/stream';
import { ID_KEYWORD } from './schemas/common.js';

const common: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };

/**
 * Two Ajv instances instead of Fastify's one: query strings and path parameters arrive as text,
 * so they are coerced (`k=5` is the number 5); JSON bodies already carry types and are not, so
 * `history: ["a", 7]` is a 400 naming `history[1]` rather than a silent "7". Both report every
 * invalid field (allErrors) and treat unknown fields as errors instead of dropping them.
 */
export function validatorCompiler(): FastifySchemaCompiler<object> {
  const strict = withIdKeyword(new Ajv({ ...common, coerceTypes: false }));
  const coercing = withIdKeyword(new Ajv({ ...common, coerceTypes: 'array' }));
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}

/**
 * Ids in queries, paths and bodies follow the event contract's rule (no control characters, not
 * only invisible ones), so an id the API accepts is one the events topic accepts. Length is left
 * to the schema's own minLength/maxLength, which the OpenAPI document shows.
 */
function withIdKeyword(ajv: Ajv): Ajv {
  const validate: SchemaValidateFunction = (enabled: boolean, data: unknown) => {
    if (!enabled || typeof data !== 'string' || data.length === 0 || data.length > MAX_ID_LENGTH) return true;
    const problem = idIssue(data);
    validate.errors = problem === undefined ? undefined : [{ keyword: ID_KEYWORD, message: problem, params: {} }];
    return problem === undefined;
  };
  ajv.addKeyword({ keyword: ID_KEYWORD, type: 'string', schemaType: 'boolean', errors: true, validate });
  return ajv;
}
