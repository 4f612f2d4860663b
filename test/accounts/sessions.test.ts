import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadJobsConfig } from '../../src/config';
import { scheduledWork } from '../../src/jobs/scheduled';
import { JOB } from '../../src/request/jobs';
import { given, ok, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const LOG_IN =
  'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken expiresAt user { id } } }';
const REFRESH = 'mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken expiresAt } }';
const ME = '{ me { id } }';
const SESSIONS = '{ me { sessions { id createdAt lastUsedAt userAgent ipAddress current } } }';

interface Pair {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
}

function codeOf(response: GraphQLResponse): string | undefined {
  return response.errors?.[0].extensions.code;
}

function statementsOf(response: GraphQLResponse): number {
  return Number(response.headers.get('x-sql-statements'));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sessions', () => {
  let app: TestApp;
  let replica: TestApp;
  let user: TestUser;
  const secrets = {
    AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };

  async function logIn(on: TestApp = app): Promise<Pair> {
    const data = ok(await on.gql<{ logIn: Pair }>(LOG_IN, { input: { email: user.email, password: user.password } }));
    return data.logIn;
  }

  before(async () => {
    app = await startTestApp(secrets);
    replica = await startTestApp(secrets, {}, app);
    user = await given(app).user();
  });
  after(async () => {
    await replica.close();
    await app.close();
  });

  it('log-in answers a short-lived access token naming its session, and a refresh token stored only hashed', async () => {
    const pair = await logIn();
    const expiresIn = new Date(pair.expiresAt).getTime() - Date.now();
    assert.ok(expiresIn > 0 && expiresIn <= 900_000, `expires in ${expiresIn} ms`);
    const claims = JSON.parse(Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString()) as { sid: string };
    const [session] = await app.sql<{ user_id: string }>('SELECT user_id FROM sessions WHERE id = $1', [claims.sid]);
    assert.equal(session.user_id, user.id);
    const tokens = await app.sql<{ token_hash: string }>(
      'SELECT token_hash FROM session_refresh_tokens WHERE session_id = $1',
      [claims.sid],
    );
    assert.deepEqual(
      tokens.map((t) => t.token_hash),
      [sha256(pair.refreshToken)],
    );
    const leaked = await app.sql(
      `SELECT 1 FROM sessions s JOIN session_refresh_tokens t ON t.session_id = s.id
       WHERE row_to_json(s)::text LIKE $1 OR row_to_json(t)::text LIKE $1`,
      [`%${pair.refreshToken}%`],
    );
    assert.equal(leaked.length, 0);
  });

  it('a known live session costs no statement: its access token is checked in memory', async () => {
    const pair = await logIn();
    ok(await app.gql(ME, {}, pair.accessToken));
    const again = await app.gql(ME, {}, pair.accessToken);
    ok(again);
    assert.equal(statementsOf(again), 1, 'only the read of me');
  });

  it('refreshing rotates the pair: the new tokens work, and the used refresh token cannot be used again', async () => {
    const first = await logIn();
    const second = ok(await app.gql<{ refreshSession: Pair }>(REFRESH, { t: first.refreshToken })).refreshSession;
    assert.notEqual(second.refreshToken, first.refreshToken);
    ok(await app.gql(ME, {}, second.accessToken));
    const third = ok(await replica.gql<{ refreshSession: Pair }>(REFRESH, { t: second.refreshToken })).refreshSession;
    ok(await replica.gql(ME, {}, third.accessToken));
  });

  it('a refresh token presented after its rotation is theft: the whole session is revoked, on every server', async () => {
    const first = await logIn();
    const second = ok(await app.gql<{ refreshSession: Pair }>(REFRESH, { t: first.refreshToken })).refreshSession;
    ok(await replica.gql(ME, {}, second.accessToken));
    const reuse = await replica.gql(REFRESH, { t: first.refreshToken });
    assert.equal(codeOf(reuse), 'UNAUTHENTICATED');
    // The legitimate holder's newer tokens are gone with the session.
    assert.equal(codeOf(await app.gql(ME, {}, second.accessToken)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await replica.gql(ME, {}, second.accessToken)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await app.gql(REFRESH, { t: second.refreshToken })), 'UNAUTHENTICATED');
    const claims = JSON.parse(Buffer.from(second.accessToken.split('.')[1], 'base64url').toString()) as { sid: string };
    const [row] = await app.sql<{ revoked_reason: string }>('SELECT revoked_reason FROM sessions WHERE id = $1', [
      claims.sid,
    ]);
    assert.equal(row.revoked_reason, 'refresh_token_reused');
  });

  it('an unknown refresh token is UNAUTHENTICATED and changes nothing', async () => {
    const before = await app.sql('SELECT id FROM sessions WHERE revoked_at IS NULL');
    assert.equal(codeOf(await app.gql(REFRESH, { t: 'not-a-token' })), 'UNAUTHENTICATED');
    assert.equal((await app.sql('SELECT id FROM sessions WHERE revoked_at IS NULL')).length, before.length);
  });

  it('logOut through one server ends the session on the other at its next request', async () => {
    const pair = await logIn();
    ok(await replica.gql(ME, {}, pair.accessToken));
    ok(await replica.gql(ME, {}, pair.accessToken));
    ok(await app.gql('mutation { logOut }', {}, pair.accessToken));
    assert.equal(codeOf(await replica.gql(ME, {}, pair.accessToken)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await app.gql(ME, {}, pair.accessToken)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await replica.gql(REFRESH, { t: pair.refreshToken })), 'UNAUTHENTICATED');
  });

  it('me { sessions } lists the live ones, marks the current one, and revokeSession ends another everywhere', async () => {
    const laptop = await logIn();
    const phone = await logIn(replica);
    ok(await replica.gql(ME, {}, phone.accessToken));
    const listed = ok(
      await app.gql<{ me: { sessions: { id: string; current: boolean; ipAddress: string }[] } }>(
        SESSIONS,
        {},
        laptop.accessToken,
      ),
    ).me.sessions;
    const phoneSid = (
      JSON.parse(Buffer.from(phone.accessToken.split('.')[1], 'base64url').toString()) as { sid: string }
    ).sid;
    assert.ok(listed.some((s) => s.id === phoneSid && !s.current && s.ipAddress === '127.0.0.1'));
    assert.equal(listed.filter((s) => s.current).length, 1);
    ok(await app.gql('mutation ($id: ID!) { revokeSession(id: $id) }', { id: phoneSid }, laptop.accessToken));
    assert.equal(codeOf(await replica.gql(ME, {}, phone.accessToken)), 'UNAUTHENTICATED');
    ok(await app.gql(ME, {}, laptop.accessToken));
    const after = ok(await app.gql<{ me: { sessions: { id: string }[] } }>(SESSIONS, {}, laptop.accessToken)).me;
    assert.ok(!after.sessions.some((s) => s.id === phoneSid));
  });

  it("revokeSession is NOT_FOUND for someone else's session, which goes on working", async () => {
    const other = await given(app).user();
    const otherSid = (JSON.parse(Buffer.from(other.token.split('.')[1], 'base64url').toString()) as { sid: string })
      .sid;
    const mine = await logIn();
    const answer = await app.gql('mutation ($id: ID!) { revokeSession(id: $id) }', { id: otherSid }, mine.accessToken);
    assert.equal(codeOf(answer), 'NOT_FOUND');
    ok(await app.gql(ME, {}, other.token));
  });

  it('revokeAllSessions ends every session of the user on both servers', async () => {
    const [a, b] = [await logIn(), await logIn(replica)];
    ok(await replica.gql(ME, {}, b.accessToken));
    ok(await replica.gql('mutation { revokeAllSessions }', {}, a.accessToken));
    assert.equal(codeOf(await app.gql(ME, {}, a.accessToken)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await replica.gql(ME, {}, b.accessToken)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await app.gql(ME, {}, b.accessToken)), 'UNAUTHENTICATED');
  });

  it('sessions and the password are managed only with a session: a personal access token or API key is FORBIDDEN', async () => {
    const pair = await logIn();
    const pat = await given(app).personalAccessToken({ user: { ...user, token: pair.accessToken } });
    const organization = await given(app).organization({ owner: { ...user, token: pair.accessToken } });
    const robot = await given(app).serviceAccount({
      organization,
      role: 'ADMIN',
      by: { ...user, token: pair.accessToken },
    });
    const key = await given(app).apiKey({ serviceAccount: robot, by: { ...user, token: pair.accessToken } });
    const change =
      'mutation { changePassword(input: { currentPassword: "a long enough password", newPassword: "another long password" }) }';
    for (const document of ['mutation { logOut }', 'mutation { revokeAllSessions }', change, SESSIONS]) {
      assert.equal(codeOf(await app.gql(document, {}, pat.secret)), 'FORBIDDEN', document);
      assert.equal(codeOf(await app.gql(document, {}, key.secret)), 'FORBIDDEN', document);
    }
    ok(await app.gql(ME, {}, pair.accessToken));
  });

  it('an account deleted by a platform admin: its sessions are refused by the other server on the next request', async () => {
    const doomed = await given(app).user();
    ok(await replica.gql(ME, {}, doomed.token));
    const admin = await given(app).platformUser();
    ok(await app.gql('mutation ($id: ID!) { deleteUser(id: $id) }', { id: doomed.id }, admin.token));
    assert.equal(codeOf(await replica.gql('{ organizations { totalCount } }', {}, doomed.token)), 'UNAUTHENTICATED');
  });

  it('a session idle past SESSION_IDLE_DAYS cannot be refreshed', async () => {
    const pair = await logIn();
    await app.sql(
      `UPDATE sessions SET idle_expires_at = now() - interval '1 second'
       WHERE id IN (SELECT session_id FROM session_refresh_tokens WHERE token_hash = $1)`,
      [sha256(pair.refreshToken)],
    );
    assert.equal(codeOf(await app.gql(REFRESH, { t: pair.refreshToken })), 'UNAUTHENTICATED');
  });

  it('the hourly expiry removes sessions 30 days after they ended, and refresh tokens a day after their rotation', async () => {
    const ended = await logIn();
    const live = await logIn();
    const rotated = ok(await app.gql<{ refreshSession: Pair }>(REFRESH, { t: live.refreshToken })).refreshSession;
    ok(await app.gql('mutation { logOut }', {}, ended.accessToken));
    const sidOf = (pair: Pair) =>
      (JSON.parse(Buffer.from(pair.accessToken.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
    const work = scheduledWork({ db: app.server.dataSource, queue: null as never, config: loadJobsConfig({}) });
    const inDays = (days: number) => new Date(Date.now() + days * 24 * 3600 * 1000);
    await work[JOB.expireInvitations](inDays(29));
    assert.equal((await app.sql('SELECT 1 FROM sessions WHERE id = $1', [sidOf(ended)])).length, 1, 'kept 30 days');
    await work[JOB.expireInvitations](inDays(2));
    assert.equal((await app.sql('SELECT 1 FROM sessions WHERE id = $1', [sidOf(ended)])).length, 1);
    const tokens = await app.sql<{ token_hash: string }>(
      'SELECT token_hash FROM session_refresh_tokens WHERE session_id = $1',
      [sidOf(rotated)],
    );
    assert.deepEqual(
      tokens.map((t) => t.token_hash),
      [sha256(rotated.refreshToken)],
      'the rotated-out token is gone, the current one stays',
    );
    await work[JOB.expireInvitations](inDays(31));
    assert.equal((await app.sql('SELECT 1 FROM sessions WHERE id = $1', [sidOf(ended)])).length, 0);
    // The live session's own end is months away: it stays.
    ok(await app.gql(REFRESH, { t: rotated.refreshToken }));
  });
});
