import { SignJWT, jwtVerify } from 'jose';
import { BoundedMap } from '../bounded-map';

export const TOKEN_ISSUER = 'platform-api';
export const TOKEN_AUDIENCE = 'platform-api';
const ALGORITHM = 'HS256';

export interface TokenKeys {
  authTokenSecret: Uint8Array;
  accessTokenTtlSeconds: number;
}

export function issueAccessToken(keys: TokenKeys, userId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${keys.accessTokenTtlSeconds}s`)
    .sign(keys.authTokenSecret);
}

/** The user id the token was issued to, or null for any token that does not verify. */
export async function verifyAccessToken(keys: TokenKeys, token: string): Promise<string | null> {
  return (await verifiedClaims(keys, token))?.userId ?? null;
}

async function verifiedClaims(keys: TokenKeys, token: string): Promise<{ userId: string; expiresAtMs: number } | null> {
  try {
    const { payload } = await jwtVerify(token, keys.authTokenSecret, {
      algorithms: [ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      requiredClaims: ['exp', 'sub'],
    });
    return payload.sub && payload.exp ? { userId: payload.sub, expiresAtMs: payload.exp * 1000 } : null;
  } catch {
    return null;
  }
}

/** Verified tokens remembered, at most: a signed-in client sends the same token on every request. */
const VERIFIED_TOKENS_KEPT = 10_000;

/**
 * verifyAccessToken with a memory of the tokens it has verified (until each one's expiry),
 * so that a client's next requests skip the JSON and HMAC work. Tokens that fail are not
 * remembered: made-up tokens cannot fill the memory. The oldest entry goes first when full.
 */
export function cachedTokenVerifier(keys: TokenKeys): (token: string) => Promise<string | null> {
  const verified = new BoundedMap<string, { userId: string; expiresAtMs: number }>(VERIFIED_TOKENS_KEPT);
  return async (token) => {
    const known = verified.get(token);
    if (known && Date.now() < known.expiresAtMs) return known.userId;
    if (known) verified.delete(token);
    const claims = await verifiedClaims(keys, token);
    if (!claims) return null;
    verified.set(token, claims);
    return claims.userId;
  };
}
