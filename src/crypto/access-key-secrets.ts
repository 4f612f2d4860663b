import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Secrets that name what they are, so that secret scanners (GitHub's, gitleaks, trufflehog) can
 * find leaked ones: `pak_` for a service account's API key, `pat_` for a personal access token.
 * Then a lookup id (public: shown in lists) and 256 random bits.
 */
export enum KeyKind {
  API_KEY = 'pak',
  PERSONAL_ACCESS_TOKEN = 'pat',
}

const SECRET_FORM = /^(pak|pat)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewSecret {
  /** Shown once, to whoever created the key. */
  secret: string;
  lookupId: string;
  /** What is stored: a random 256-bit secret needs no slow hash, a SHA-256 cannot be reversed. */
  secretHash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function newSecret(kind: KeyKind): NewSecret {
  const lookupId = randomBytes(8).toString('hex');
  const secret = `${kind}_${lookupId}_${randomBytes(32).toString('base64url')}`;
  return { secret, lookupId, secretHash: hashSecret(secret) };
}

/** What a list shows of a key: its kind and lookup id, never a character of the secret. */
export function displayPrefix(kind: KeyKind, lookupId: string): string {
  return `${kind}_${lookupId}`;
}

/** Whether the bearer token looks like one of these keys (anything else may be a session's token). */
export function looksLikeKey(token: string): boolean {
  return token.startsWith(`${KeyKind.API_KEY}_`) || token.startsWith(`${KeyKind.PERSONAL_ACCESS_TOKEN}_`);
}

/** The kind and lookup id of a well-formed secret; null for anything else. */
export function parseSecret(token: string): { kind: KeyKind; lookupId: string } | null {
  const match = SECRET_FORM.exec(token);
  return match ? { kind: match[1] as KeyKind, lookupId: match[2] } : null;
}

/** Compares in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
