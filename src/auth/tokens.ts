import { SignJWT, jwtVerify } from 'jose';
import { BoundedMap } from '../bounded-map';

export const TOKEN_ISSUER = 'platform-api';
export const TOKEN_AUDIENCE = 'platform-api';
const ALGORITHM = 'HS256';

export interface TokenKeys {
  authTokenSecret: Uint8Array;
  accessTokenTtlSeconds: number;
}

/** What a verified access token says: whose it is, the session it belongs to, until when. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  expiresAtMs: number;
}

/**
 * An access token of session `sessionId`: ACCESS_TOKEN_TTL_SECONDS long, or less when the
 * session ends sooner (`notAfter`), so that no token outlives its session.
 */
export async function issueAccessToken(
  keys: TokenKeys,
  userId: string,
  sessionId: string,
  notAfter?: Date,
): Promise<{ token: string; expiresAt: Date }> {
  const ttlEnd = Math.floor(Date.now() / 1000) + keys.accessTokenTtlSeconds;
  const exp = notAfter ? Math.min(ttlEnd, Math.floor(notAfter.getTime() / 1000)) : ttlEnd;
  const token = await new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(keys.authTokenSecret);
  return { token, expiresAt: new Date(exp * 1000) };
}

/** The claims of a token that verifies and names its session; null for any other. */
export async function verifyAccessToken(keys: TokenKeys, token: string): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, keys.authTokenSecret, {
      algorithms: [ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      requiredClaims: ['exp', 'sub', 'sid'],
    });
    const { sub, exp, sid } = payload;
    return sub && exp && typeof sid === 'string' ? { userId: sub, sessionId: sid, expiresAtMs: exp * 1000 } : null;
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
export function cachedTokenVerifier(keys: TokenKeys): (token: string) => Promise<AccessClaims | null> {
  const verified = new BoundedMap<string, AccessClaims>(VERIFIED_TOKENS_KEPT);
  return async (token) => {
    const known = verified.get(token);
    if (known && Date.now() < known.expiresAtMs) return known;
    if (known) verified.delete(token);
    const claims = await verifyAccessToken(keys, token);
    if (!claims) return null;
    verified.set(token, claims);
    return claims;
  };
}
