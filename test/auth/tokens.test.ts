import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { cachedTokenVerifier, issueAccessToken, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/auth/tokens';

const keys = { authTokenSecret: randomBytes(32), accessTokenTtlSeconds: 3600 };

function tokenExpiringIn(seconds: number, secret = keys.authTokenSecret): Promise<string> {
  return new SignJWT({ sid: 'c0ffee00-0000-4000-8000-0000000000aa' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('4b6f2f0e-5a43-4c1e-9b1a-0c2d3e4f5a6b')
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(secret);
}

describe('remembered token verification', () => {
  it('answers the same user and session for the same token, again and again', async () => {
    const verify = cachedTokenVerifier(keys);
    const sessionId = 'c0ffee00-0000-4000-8000-0000000000aa';
    const { token } = await issueAccessToken(keys, 'c0ffee00-0000-4000-8000-000000000001', sessionId);
    assert.equal((await verify(token))?.userId, 'c0ffee00-0000-4000-8000-000000000001');
    assert.equal((await verify(token))?.sessionId, sessionId);
  });

  it('never lets an access token outlive its session', async () => {
    const sessionEnd = new Date(Date.now() + 120_000);
    const { expiresAt } = await issueAccessToken(keys, 'c0ffee00-0000-4000-8000-000000000001', 'x', sessionEnd);
    assert.ok(expiresAt.getTime() <= sessionEnd.getTime());
  });

  it('refuses a token that names no session (issued before sessions existed)', async () => {
    const verify = cachedTokenVerifier(keys);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('4b6f2f0e-5a43-4c1e-9b1a-0c2d3e4f5a6b')
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setExpirationTime('1h')
      .sign(keys.authTokenSecret);
    assert.equal(await verify(token), null);
  });

  it('stops accepting a remembered token once it expires', async () => {
    const verify = cachedTokenVerifier(keys);
    const token = await tokenExpiringIn(1);
    assert.ok(await verify(token), 'valid at first');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal(await verify(token), null);
  });

  it('refuses, every time, a token signed with another key or tampered with', async () => {
    const verify = cachedTokenVerifier(keys);
    const foreign = await tokenExpiringIn(60, randomBytes(32));
    const genuine = await tokenExpiringIn(60);
    const tampered = `${genuine.slice(0, -2)}${genuine.endsWith('A') ? 'BB' : 'AA'}`;
    for (let i = 0; i < 2; i += 1) {
      assert.equal(await verify(foreign), null);
      assert.equal(await verify(tampered), null);
    }
    assert.ok(await verify(genuine));
  });
});
