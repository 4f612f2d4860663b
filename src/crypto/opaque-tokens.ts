import { createHash, randomBytes } from 'node:crypto';

/**
 * The SHA-256 (hex) of an opaque token: all that is stored of an invitation, refresh, reset or
 * verification token, so that a copy of the database holds none that works.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new opaque token (256 random bits, base64url) and its hash. */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}
