import type { ServerResponse } from 'node:http';

/** Headers for an API that serves JSON (and, outside production, the Sandbox landing page). */
export function securityHeaders(res: ServerResponse, production: boolean): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-resource-policy', 'same-site');
  // Responses carry keys and secrets: no cache, shared or private, may keep them.
  res.setHeader('cache-control', 'no-store');
  if (production) {
    res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
    res.setHeader('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  }
}
