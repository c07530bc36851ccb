import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SERVING_ERRORS, ServingError, type FieldIssue, type ServingErrorCode } from './errors.js';
import type { ErrorResponse } from './schemas/common.js';

interface AjvIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/history/3` -> `history[3]`, `/userId` -> `userId`: the field as the client wrote it. */
function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (extra !== undefined) parts.push(extra);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '$';
}

export function ajvIssues(validation: readonly AjvIssue[]): FieldIssue[] {
  return validation.map((v) => {
    if (v.keyword === 'required') return { field: fieldPath(v.instancePath, String(v.params.missingProperty)), message: 'is required' };
    if (v.keyword === 'additionalProperties') return { field: fieldPath(v.instancePath, String(v.params.additionalProperty)), message: 'is not a known field' };
    return { field: fieldPath(v.instancePath), message: v.message ?? v.keyword };
  });
}

function body(code: ServingErrorCode, message: string, issues?: FieldIssue[]): ErrorResponse {
  return issues === undefined ? { code, message } : { code, message, issues };
}

/**
 * One translation of every failure into the error catalogue: schema failures become a 400 that
 * names each field, Fastify's body-parser errors keep their status with a RECO_ERR_* code, and
 * anything unexpected is a 500 whose cause goes to the log, not to the client.
 */
export function errorHandler(error: FastifyError & { validation?: AjvIssue[]; validationContext?: string }, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ServingError) {
    if (error.statusCode >= 500) request.log.error({ err: error, cause: error.cause }, error.message);
    return reply.status(error.statusCode).send(body(error.code, error.message, error.issues));
  }
  if (error.validation !== undefined) {
    const issues = ajvIssues(error.validation);
    const where = error.validationContext ?? 'request';
    const message = `invalid ${where}: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`;
    return reply.status(400).send(body('RECO_ERR_VALIDATION', message, issues));
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return reply.status(413).send(body('RECO_ERR_BODY_TOO_LARGE', `${error.message} (limit ${request.routeOptions.bodyLimit ?? 'default'} bytes)`));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply.status(415).send(body('RECO_ERR_UNSUPPORTED_MEDIA_TYPE', `${error.message}: send application/json`));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return reply.status(400).send(body('RECO_ERR_INVALID_JSON', error.message, [{ field: '$', message: error.message }]));
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return reply.status(400).send(body('RECO_ERR_INVALID_JSON', error.message, [{ field: '$', message: error.message }]));
  }
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) {
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(body('RECO_ERR_INTERNAL', SERVING_ERRORS.RECO_ERR_INTERNAL.description));
  }
  return reply.status(status).send(body('RECO_ERR_VALIDATION', error.message));
}
