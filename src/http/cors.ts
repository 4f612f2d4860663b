import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id';
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Cross-origin access for the listed origins only (none by default). Tokens travel in the
 * Authorization header, never in cookies, so credentials are not allowed cross-origin.
 * Returns true when the request was a preflight (or a bare OPTIONS) and has been answered.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse, allowedOrigins: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  const allowed = origin !== undefined && allowedOrigins.has(origin);
  if (allowedOrigins.size > 0) res.setHeader('vary', 'Origin');
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', 'x-request-id');
  }
  if (req.method !== 'OPTIONS') return false;
  if (req.headers['access-control-request-method'] !== undefined) {
    res.statusCode = allowed ? 204 : 403;
    if (allowed) {
      res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
      res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
      res.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
    }
  } else {
    res.statusCode = 204;
    res.setHeader('allow', ALLOWED_METHODS);
  }
  res.end();
  return true;
}
