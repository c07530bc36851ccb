import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ServingError } from '../errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * The one check of every admin route (rollback, catalogue writes): 401 when no credential is
 * presented at all (or not as Bearer), 403 when it is the wrong one or no admin token is configured.
 */
export function authorizeAdmin(request: FastifyRequest, adminToken: string | undefined): void {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw new ServingError('RECO_ERR_UNAUTHORIZED', 'missing or malformed Authorization header; expected "Bearer <token>"');
  // Compare digests: equal length always, and the time taken says nothing about the token.
  if (adminToken === undefined || !timingSafeEqual(digest(match[1] ?? ''), digest(adminToken))) {
    throw new ServingError('RECO_ERR_FORBIDDEN', adminToken === undefined ? 'admin routes are disabled (RECO_ADMIN_TOKEN is not set)' : 'wrong admin token');
  }
}
