import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify's per-request lines at debug, for both services: at info, "incoming request" and
 * "request completed" for every request were most of what a replica under the simulator's
 * traffic printed, and every scrape of the updater's /metrics drowned its training lines. A
 * request that errors after its reply started stays at error (Fastify's own line). Pass it as
 * Fastify's `logController`.
 */
export class DebugRequestLogs extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    reply.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed');
  }

  // Fastify's default 404 says so at info: a scanner's every probe would be a line.
  override routeNotFound(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'no such route');
  }
}
