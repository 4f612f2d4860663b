import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

export const PROJECT_KEY_ISSUER = 'platform';
/** Project API keys are long-lived; rotating the secret is how they are revoked. */
const KEY_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

export interface ProjectKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}

function signKey(secret: string, ref: string, role: 'anon' | 'service_role', issuedAt: number): Promise<string> {
  return new SignJWT({ role, ref })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(PROJECT_KEY_ISSUER)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + KEY_LIFETIME_SECONDS)
    .sign(new TextEncoder().encode(secret));
}

/** A fresh 48-byte secret and the two HS256 keys signed with it; anyone holding the secret can verify them. */
export async function generateProjectKeys(ref: string): Promise<ProjectKeys> {
  const jwtSecret = randomBytes(48).toString('base64url');
  const issuedAt = Math.floor(Date.now() / 1000);
  const [anonKey, serviceRoleKey] = await Promise.all([
    signKey(jwtSecret, ref, 'anon', issuedAt),
    signKey(jwtSecret, ref, 'service_role', issuedAt),
  ]);
  return { jwtSecret, anonKey, serviceRoleKey };
}

const REF_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 16 random lowercase alphanumerics (~82 bits), without modulo bias. */
export function generateProjectRef(): string {
  let ref = '';
  while (ref.length < 16) {
    for (const byte of randomBytes(24)) {
      if (byte < 252 && ref.length < 16) ref += REF_ALPHABET[byte % REF_ALPHABET.length];
    }
  }
  return ref;
}
