import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

/** 400 bodies always name a field (`$` for the request as a whole): the events route's 400 schema requires `issues`. */
function body(code: ServingErrorCode, message: string, issues?: FieldIssue[]): ErrorResponse {
  if (issues === undefined && SERVING_ERRORS[code].status === 400) return { code, message, issues: [{ field: '$', message }] };
  return issues === undefined ? { code, message } : { code, message, issues };
}

function send(reply: FastifyReply, code: ServingErrorCode, message: string, issues?: FieldIssue[]): FastifyReply {
  return reply.status(SERVING_ERRORS[code].status).send(body(code, message, issues));
}

/** Fastify's and Node's own codes, each answered with its catalogue code. */
const FASTIFY_CODES: Readonly<Record<string, ServingErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'RECO_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'RECO_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'RECO_ERR_INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'RECO_ERR_INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'RECO_ERR_MALFORMED_REQUEST',
  FST_ERR_BAD_URL: 'RECO_ERR_BAD_URL',
  FST_ERR_INVALID_URL: 'RECO_ERR_BAD_URL',
  FST_ERR_VALIDATION: 'RECO_ERR_VALIDATION',
  FST_ERR_MAX_PARAM_LENGTH: 'RECO_ERR_URI_TOO_LONG',
};

/** A 4xx from Fastify or a plugin that has no code of its own above, by its status. */
const BY_STATUS: Readonly<Record<number, ServingErrorCode>> = {
  404: 'RECO_ERR_NOT_FOUND',
  408: 'RECO_ERR_REQUEST_TIMEOUT',
  413: 'RECO_ERR_BODY_TOO_LARGE',
  414: 'RECO_ERR_URI_TOO_LONG',
  415: 'RECO_ERR_UNSUPPORTED_MEDIA_TYPE',
  431: 'RECO_ERR_HEADERS_TOO_LARGE',
};

/**
 * One translation of every failure into the error catalogue: schema failures become a 400 that
 * names each field, Fastify's own errors get their catalogue code, and anything unexpected is a
 * 500 whose cause goes to the log, not to the client. A 5xx message never carries a cause's text:
 * it would show broker addresses and internals to anyone who can reach the port.
 */
export function errorHandler(error: FastifyError & { validation?: AjvIssue[]; validationContext?: string }, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ServingError) {
    if (error.statusCode >= 500 && error.code !== 'RECO_ERR_SHUTTING_DOWN') request.log.error({ err: error, cause: error.cause }, error.message);
    return send(reply, error.code, error.message, error.issues);
  }
  if (error.validation !== undefined) {
    const issues = ajvIssues(error.validation);
    const where = error.validationContext ?? 'request';
    const message = `invalid ${where}: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`;
    return send(reply, 'RECO_ERR_VALIDATION', message, issues);
  }
  const known = FASTIFY_CODES[error.code];
  if (known === 'RECO_ERR_BODY_TOO_LARGE') return send(reply, known, `${error.message} (limit ${request.routeOptions.bodyLimit ?? 'default'} bytes)`);
  if (known === 'RECO_ERR_UNSUPPORTED_MEDIA_TYPE') return send(reply, known, `${error.message}: send application/json`);
  if (known !== undefined) return send(reply, known, error.message);
  if (error instanceof SyntaxError) return send(reply, 'RECO_ERR_INVALID_JSON', error.message);
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // Not expected from this app: keep it a client error, inside the catalogue, and leave a trace.
    request.log.warn({ err: error }, 'client error without a catalogue code');
    return send(reply, BY_STATUS[status] ?? 'RECO_ERR_MALFORMED_REQUEST', error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return send(reply, 'RECO_ERR_INTERNAL', SERVING_ERRORS.RECO_ERR_INTERNAL.description);
}

/**
 * Fastify's router failures (an undecodable path, a path parameter over the router's limit),
 * which happen before any route is matched, answered like every other error.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  errorHandler(error, request, reply);
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers over 16 KiB, a request
 * that did not arrive within the request timeout, bytes that are not HTTP): answered on the
 * socket with a catalogue body, then the connection is closed, as Node itself would.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ServingErrorCode =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'RECO_ERR_REQUEST_TIMEOUT' : error.code === 'HPE_HEADER_OVERFLOW' ? 'RECO_ERR_HEADERS_TOO_LARGE' : 'RECO_ERR_MALFORMED_REQUEST';
  const { status } = SERVING_ERRORS[code];
  const message =
    code === 'RECO_ERR_REQUEST_TIMEOUT'
      ? 'the request did not arrive in time'
      : code === 'RECO_ERR_HEADERS_TOO_LARGE'
        ? 'the request line and headers are too large'
        : 'the request is not valid HTTP';
  this.log.debug({ err: error, code }, 'client error');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(body(code, message));
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n`;
  // Destroyed once the answer is flushed: the rest of what the client sends is not HTTP we can read.
  socket.end(head + text, () => socket.destroy());
}
