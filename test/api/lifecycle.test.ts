import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { DAY_MS, eventually, given, ok, runScheduledJobs } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

const PROJECT = `query ($ref: String!) {
  project(ref: $ref) { ref status myAccess credentials { anonKey serviceRoleKey jwtSecret } }
}`;

interface Credentials {
  anonKey: string;
  serviceRoleKey: string;
  jwtSecret: string;
}

async function verifies(token: string, secret: string): Promise<Record<string, unknown> | null> {
  try {
    return (await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] })).payload;
  } catch {
    return null;
  }
}

describe('the organization and project lifecycle', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  it('runs from sign-up to deletion through the API', async () => {
    const make = given(app);
    const owner = await make.user({ email: '  Owner.Person@Example.COM ' });
    assert.equal(owner.email, 'owner.person@example.com');

    const created = ok(
      await app.gql<{ createOrganization: { slug: string; myRole: string } }>(
        'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug myRole } }',
        { input: { name: 'Lancio Labs' } },
        owner.token,
      ),
    );
    assert.deepEqual(created.createOrganization, { slug: 'lancio-labs', myRole: 'OWNER' });
    const organization = { id: '', slug: 'lancio-labs' };

    const colleague = await make.user();
    const invited = ok(
      await app.gql<{ inviteMember: { token: string; invitation: { email: string; role: string } } }>(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token invitation { email role expiresAt } } }',
        { input: { organizationSlug: organization.slug, email: colleague.email.toUpperCase(), role: 'MEMBER' } },
        owner.token,
      ),
    );
    assert.equal(invited.inviteMember.invitation.email, colleague.email);
    const [stored] = await app.sql<{ token_hash: string }>('SELECT token_hash FROM invitations');
    assert.notEqual(stored.token_hash, invited.inviteMember.token, 'only the hash of the token is stored');

    const accepted = ok(
      await app.gql<{ acceptInvitation: { role: string; user: { id: string } } }>(
        'mutation ($token: String!) { acceptInvitation(token: $token) { role user { id } } }',
        { token: invited.inviteMember.token },
        colleague.token,
      ),
    );
    assert.deepEqual(accepted.acceptInvitation, { role: 'MEMBER', user: { id: colleague.id } });
    const again = await app.gql(
      'mutation ($token: String!) { acceptInvitation(token: $token) { role } }',
      { token: invited.inviteMember.token },
      colleague.token,
    );
    assert.equal(again.errors?.[0].extensions.code, 'NOT_FOUND', 'an invitation is single-use');

    const project = ok(
      await app.gql<{ createProject: { id: string; ref: string; status: string } }>(
        'mutation ($input: CreateProjectInput!) { createProject(input: $input) { id ref status } }',
        { input: { organizationSlug: organization.slug, name: 'Primary', region: 'eu-central-1' } },
        owner.token,
      ),
    ).createProject;
    assert.match(project.ref, /^[a-z0-9]{16}$/);
    assert.equal(project.status, 'COMING_UP');
    await eventually(async () => {
      const seen = ok(await app.gql<{ project: { status: string } }>(PROJECT, { ref: project.ref }, owner.token));
      assert.equal(seen.project.status, 'ACTIVE_HEALTHY');
    });

    const first = ok(
      await app.gql<{ project: { credentials: Credentials } }>(PROJECT, { ref: project.ref }, owner.token),
    ).project.credentials;
    assert.ok(Buffer.from(first.jwtSecret, 'base64url').length >= 32);
    const anon = await verifies(first.anonKey, first.jwtSecret);
    const service = await verifies(first.serviceRoleKey, first.jwtSecret);
    assert.equal(anon?.role, 'anon');
    assert.equal(service?.role, 'service_role');
    for (const claims of [anon, service]) {
      assert.equal(claims?.ref, project.ref);
      assert.ok(claims?.iss && claims.iat && claims.exp);
    }
    const [atRest] = await app.sql<{ jwt_secret: string; service_role_key: string }>(
      'SELECT jwt_secret, service_role_key FROM credentials',
    );
    assert.ok(!atRest.jwt_secret.includes(first.jwtSecret), 'the secret is encrypted at rest');
    assert.ok(!atRest.service_role_key.includes(first.serviceRoleKey), 'the service key is encrypted at rest');

    const rotated = ok(
      await app.gql<{ rotateProjectJwtSecret: Credentials }>(
        'mutation ($ref: String!) { rotateProjectJwtSecret(ref: $ref) { anonKey serviceRoleKey jwtSecret } }',
        { ref: project.ref },
        owner.token,
      ),
    ).rotateProjectJwtSecret;
    assert.notEqual(rotated.jwtSecret, first.jwtSecret);
    assert.equal((await verifies(rotated.anonKey, rotated.jwtSecret))?.role, 'anon');
    assert.equal((await verifies(rotated.serviceRoleKey, rotated.jwtSecret))?.role, 'service_role');
    assert.equal(await verifies(first.anonKey, rotated.jwtSecret), null, 'old keys no longer verify');
    assert.equal(await verifies(first.serviceRoleKey, rotated.jwtSecret), null, 'old keys no longer verify');

    const hidden = await app.gql(PROJECT, { ref: project.ref }, colleague.token);
    assert.equal(hidden.errors?.[0].extensions.code, 'NOT_FOUND', 'a member sees no project without a grant');
    await make.grant({ project, user: colleague, level: 'READ', by: owner });
    const asReader = await app.gql<{ project: { myAccess: string; credentials: Partial<Credentials> | null } | null }>(
      'query ($ref: String!) { project(ref: $ref) { myAccess credentials { anonKey } } }',
      { ref: project.ref },
      colleague.token,
    );
    assert.equal(ok(asReader).project?.myAccess, 'READ');
    assert.equal(ok(asReader).project?.credentials?.anonKey, rotated.anonKey);
    const secretAsReader = await app.gql(PROJECT, { ref: project.ref }, colleague.token);
    assert.equal(secretAsReader.errors?.[0].extensions.code, 'FORBIDDEN', 'a reader cannot see the secrets');

    ok(
      await app.gql(
        'mutation ($ref: String!, $userId: ID!) { revokeProjectPermission(projectRef: $ref, userId: $userId) }',
        { ref: project.ref, userId: colleague.id },
        owner.token,
      ),
    );
    const revoked = await app.gql(PROJECT, { ref: project.ref }, colleague.token);
    assert.equal(revoked.errors?.[0].extensions.code, 'NOT_FOUND');

    ok(await app.gql('mutation ($ref: String!) { deleteProject(ref: $ref) }', { ref: project.ref }, owner.token));
    const gone = await app.gql(PROJECT, { ref: project.ref }, owner.token);
    assert.equal(gone.errors?.[0].extensions.code, 'NOT_FOUND', 'a deleted project is hidden at once');
    ok(
      await app.gql(
        'mutation ($slug: String!) { deleteOrganization(slug: $slug) }',
        { slug: organization.slug },
        owner.token,
      ),
    );
    const { code, output } = await runScheduledJobs(app, new Date(Date.now() + 8 * DAY_MS));
    assert.equal(code, 0, output);
    assert.deepEqual(await app.sql('SELECT id FROM credentials'), [], 'credentials go with the purged project');
    assert.deepEqual(await app.sql('SELECT id FROM user_roles'), [], 'memberships go with the purged organization');
    assert.deepEqual(await app.sql('SELECT id FROM invitations'), [], 'invitations go with the purged organization');
  });

  it('logs in with the same e-mail in any case and records the time', async () => {
    const user = await given(app).user();
    const response = ok(
      await app.gql<{ logIn: { accessToken: string; user: { lastLoginAt: string } } }>(
        'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken user { lastLoginAt } } }',
        { input: { email: ` ${user.email.toUpperCase()} `, password: user.password } },
      ),
    );
    assert.ok(Date.now() - Date.parse(response.logIn.user.lastLoginAt) < 60_000);
    const me = ok(await app.gql<{ me: { id: string } }>('{ me { id } }', {}, response.logIn.accessToken));
    assert.equal(me.me.id, user.id);
  });

  it('gives one answer for an unknown e-mail and a wrong password', async () => {
    const user = await given(app).user();
    const wrong = await app.gql('mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }', {
      input: { email: user.email, password: 'not the password at all' },
    });
    const unknown = await app.gql('mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }', {
      input: { email: 'nobody-here@example.com', password: 'not the password at all' },
    });
    assert.equal(wrong.errors?.[0].extensions.code, 'UNAUTHENTICATED');
    assert.deepEqual(wrong.errors?.[0].message, unknown.errors?.[0].message);
    assert.deepEqual(wrong.errors?.[0].extensions, unknown.errors?.[0].extensions);
  });
});
