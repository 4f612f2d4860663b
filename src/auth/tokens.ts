import { SignJWT, jwtVerify } from 'jose';

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
  try {
    const { payload } = await jwtVerify(token, keys.authTokenSecret, {
      algorithms: [ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      requiredClaims: ['exp', 'sub'],
    });
    return payload.sub ?? null;
  } catch {
    return null;
  }
}
