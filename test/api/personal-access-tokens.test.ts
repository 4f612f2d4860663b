import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { given, ok, snapshot, type TestOrganization, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const CREATE =
  'mutation ($input: CreatePersonalAccessTokenInput!) { createPersonalAccessToken(input: $input) { token { id name prefix createdAt expiresAt lastUsedAt } secret } }';
const REVOKE = 'mutation ($id: ID!) { revokePersonalAccessToken(id: $id) }';

function codeOf(response: GraphQLResponse): string | undefined {
  return response.errors?.[0].extensions.code;
}

describe('personal access tokens', () => {
  let app: TestApp;
  let user: TestUser;
  let colleague: TestUser;
  let first: TestOrganization;
  let second: TestOrganization;

  before(async () => {
    app = await startTestApp();
    const make = given(app);
    [user, colleague] = await Promise.all([make.user(), make.user()]);
    first = await make.organization({ owner: user });
    second = await make.organization({ owner: colleague });
    await make.member({ organization: second, role: 'VIEWER', by: colleague, user });
  });
  after(() => app.close());

  it('are shown once, start with pat_, and only their SHA-256 is stored', async () => {
    const data = ok(
      await app.gql<{ createPersonalAccessToken: { token: { id: string; prefix: string }; secret: string } }>(
        CREATE,
        { input: { name: 'laptop' } },
        user.token,
      ),
    );
    const { token, secret } = data.createPersonalAccessToken;
    assert.match(secret, /^pat_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.prefix, secret.slice(0, 20));
    const [row] = await app.sql<{ secret_hash: string; user_id: string }>(
      'SELECT secret_hash, user_id FROM access_keys WHERE id = $1',
      [token.id],
    );
    assert.deepEqual(row, { secret_hash: createHash('sha256').update(secret).digest('hex'), user_id: user.id });
  });

  it("act as their user in every organization, with the user's roles at the time of the request", async () => {
    const pat = await given(app).personalAccessToken({ user });
    const data = ok(
      await app.gql<{ organizations: { nodes: { slug: string; myRole: string }[] } }>(
        '{ organizations { nodes { slug myRole } } }',
        {},
        pat.secret,
      ),
    );
    assert.deepEqual(
      data.organizations.nodes.map((node) => [node.slug, node.myRole]).sort(),
      [
        [first.slug, 'OWNER'],
        [second.slug, 'VIEWER'],
      ].sort(),
    );
    const me = ok(await app.gql<{ me: { id: string } }>('{ me { id } }', {}, pat.secret));
    assert.equal(me.me.id, user.id);
    const viewer = ok(
      await app.gql<{ viewer: unknown }>(
        '{ viewer { kind authentication user { id } serviceAccount { id } organization { slug } } }',
        {},
        pat.secret,
      ),
    );
    assert.deepEqual(viewer.viewer, {
      kind: 'USER',
      authentication: 'PERSONAL_ACCESS_TOKEN',
      user: { id: user.id },
      serviceAccount: null,
      organization: null,
    });
  });

  it("cannot change the user's tokens: making or revoking one with a token is FORBIDDEN", async () => {
    const pat = await given(app).personalAccessToken({ user });
    const other = await given(app).personalAccessToken({ user });
    ok(await app.gql('{ me { id } }', {}, pat.secret));
    const before = await snapshot(app);
    assert.equal(codeOf(await app.gql(CREATE, { input: { name: 'spare' } }, pat.secret)), 'FORBIDDEN');
    assert.equal(codeOf(await app.gql(REVOKE, { id: other.id }, pat.secret)), 'FORBIDDEN');
    assert.deepEqual(await snapshot(app), before);
  });

  it('a revoked token is UNAUTHENTICATED on the very next request', async () => {
    const pat = await given(app).personalAccessToken({ user });
    ok(await app.gql('{ me { id } }', {}, pat.secret));
    ok(await app.gql(REVOKE, { id: pat.id }, user.token));
    assert.equal(codeOf(await app.gql('{ me { id } }', {}, pat.secret)), 'UNAUTHENTICATED');
  });

  it("somebody else's token cannot be revoked: NOT_FOUND, and it keeps working", async () => {
    const theirs = await given(app).personalAccessToken({ user: colleague });
    assert.equal(codeOf(await app.gql(REVOKE, { id: theirs.id }, user.token)), 'NOT_FOUND');
    ok(await app.gql('{ me { id } }', {}, theirs.secret));
  });

  it('me lists the tokens, newest first, revoked ones with their time, never a secret', async () => {
    const someone = await given(app).user();
    const older = await given(app).personalAccessToken({ user: someone });
    const newer = await given(app).personalAccessToken({ user: someone });
    ok(await app.gql(REVOKE, { id: older.id }, someone.token));
    const data = ok(
      await app.gql<{ me: { personalAccessTokens: { id: string; revokedAt: string | null }[] } }>(
        '{ me { personalAccessTokens { id name prefix createdAt expiresAt lastUsedAt revokedAt } } }',
        {},
        someone.token,
      ),
    );
    assert.deepEqual(
      data.me.personalAccessTokens.map((token) => [token.id, token.revokedAt !== null]),
      [
        [newer.id, false],
        [older.id, true],
      ],
    );
    assert.ok(!JSON.stringify(data).includes(newer.secret.slice(21)));
  });

  it("another user's tokens are not theirs to list, even through an organization's members (FORBIDDEN)", async () => {
    const response = await app.gql(
      'query ($slug: String!) { organization(slug: $slug) { members { nodes { user { id personalAccessTokens { id } } } } } }',
      { slug: second.slug },
      user.token,
    );
    assert.equal(codeOf(response), 'FORBIDDEN');
  });

  it('an expiry in the past is BAD_USER_INPUT on expiresAt', async () => {
    const response = await app.gql(
      CREATE,
      { input: { name: 'late', expiresAt: new Date(Date.now() - 60_000).toISOString() } },
      user.token,
    );
    assert.equal(codeOf(response), 'BAD_USER_INPUT');
    assert.deepEqual(
      (response.errors?.[0].extensions.fields as { field: string }[]).map((p) => p.field),
      ['expiresAt'],
    );
  });
});
