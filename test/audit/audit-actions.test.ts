import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUDIT_ACTIONS } from '../../src/audit/actions';
import { buildApiSchema } from '../../src/schema';
import { given, ok, untilActive, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

describe('every mutation has its audit action', () => {
  it('each field of the schema’s Mutation type is in AUDIT_ACTIONS, and nothing else is', async () => {
    const mutations = Object.keys((await buildApiSchema()).getMutationType()?.getFields() ?? {}).sort();
    const missing = mutations.filter((name) => !(name in AUDIT_ACTIONS));
    assert.deepEqual(
      missing,
      [],
      `mutations without an audit action (add them to src/audit/actions.ts): ${missing.join(', ')}`,
    );
    const stale = Object.keys(AUDIT_ACTIONS).filter((name) => !mutations.includes(name));
    assert.deepEqual(stale, [], 'actions of mutations the schema no longer has');
  });

  it('action names are stable dotted names, and a mutation mapped to none says why', () => {
    for (const [mutation, action] of Object.entries(AUDIT_ACTIONS) as [string, unknown][]) {
      if (typeof action === 'string') assert.match(action, /^[a-z_]+(\.[a-z_]+)+$/, mutation);
      else assert.ok((action as { none: string }).none.length > 10, `${mutation} says why it records nothing`);
    }
  });
});

describe('a mutation writes exactly one event, with its action', () => {
  let app: TestApp;
  let owner: TestUser;
  before(async () => {
    app = await startTestApp({ BILLING_ENABLED: 'false' });
    owner = await given(app).user();
  });
  after(() => app.close());

  /** Runs the mutation and returns what it answered, after checking the events its request wrote. */
  async function once<T>(mutation: keyof typeof AUDIT_ACTIONS, run: () => Promise<GraphQLResponse<T>>): Promise<T> {
    const response = await run();
    const data = ok(response);
    const requestId = response.headers.get('x-request-id');
    const rows = await app.sql<{ action: string }>('SELECT action FROM audit_events WHERE request_id = $1', [
      requestId,
    ]);
    assert.deepEqual(
      rows.map((row) => row.action),
      [AUDIT_ACTIONS[mutation]],
      mutation,
    );
    return data;
  }

  it('holds for the lifecycle of an organization, its members, projects, service accounts and keys', async () => {
    const gql = <T>(query: string, variables: Record<string, unknown>, token = owner.token) =>
      app.gql<T>(query, variables, token);
    const { createOrganization: organization } = await once('createOrganization', () =>
      gql<{ createOrganization: { slug: string } }>(
        'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }',
        { input: { name: 'Audited' } },
      ),
    );
    const slug = organization.slug;
    await once('updateOrganization', () =>
      gql('mutation ($slug: String!) { updateOrganization(slug: $slug, input: { name: "Renamed" }) { name } }', {
        slug,
      }),
    );
    const invitee = await given(app).user();
    const { inviteMember } = await once('inviteMember', () =>
      gql<{ inviteMember: { token: string } }>(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        { input: { organizationSlug: slug, email: invitee.email, role: 'MEMBER' } },
      ),
    );
    await once('acceptInvitation', () =>
      gql(
        'mutation ($token: String!) { acceptInvitation(token: $token) { role } }',
        { token: inviteMember.token },
        invitee.token,
      ),
    );
    await once('updateMemberRole', () =>
      gql('mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }', {
        input: { organizationSlug: slug, userId: invitee.id, role: 'ADMIN' },
      }),
    );
    const { createProject: project } = await once('createProject', () =>
      gql<{ createProject: { id: string; ref: string } }>(
        'mutation ($input: CreateProjectInput!) { createProject(input: $input) { id ref } }',
        { input: { organizationSlug: slug, name: 'P', region: 'eu-west-1' } },
      ),
    );
    await untilActive(app, project);
    const ref = { ref: project.ref };
    await once('rotateProjectJwtSecret', () =>
      gql('mutation ($ref: String!) { rotateProjectJwtSecret(ref: $ref) { anonKey } }', ref),
    );
    await once('pauseProject', () => gql('mutation ($ref: String!) { pauseProject(ref: $ref) { status } }', ref));
    await once('deleteProject', () => gql('mutation ($ref: String!) { deleteProject(ref: $ref) }', ref));
    await once('undeleteProject', () => gql('mutation ($ref: String!) { undeleteProject(ref: $ref) { status } }', ref));
    const { createServiceAccount: account } = await once('createServiceAccount', () =>
      gql<{ createServiceAccount: { id: string } }>(
        'mutation ($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { id } }',
        { input: { organizationSlug: slug, name: 'deployer', role: 'MEMBER' } },
      ),
    );
    await once('grantProjectPermission', () =>
      gql('mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }', {
        input: { projectRef: project.ref, serviceAccountId: account.id, accessLevel: 'WRITE' },
      }),
    );
    await once('revokeProjectPermission', () =>
      gql('mutation ($ref: String!, $id: ID!) { revokeProjectPermission(projectRef: $ref, serviceAccountId: $id) }', {
        ref: project.ref,
        id: account.id,
      }),
    );
    const { createApiKey } = await once('createApiKey', () =>
      gql<{ createApiKey: { apiKey: { id: string } } }>(
        'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }',
        { input: { serviceAccountId: account.id, name: 'k' } },
      ),
    );
    await once('revokeApiKey', () =>
      gql('mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: createApiKey.apiKey.id }),
    );
    await once('updateServiceAccount', () =>
      gql('mutation ($id: ID!) { updateServiceAccount(id: $id, input: { name: "renamed" }) { name } }', {
        id: account.id,
      }),
    );
    await once('deleteServiceAccount', () =>
      gql('mutation ($id: ID!) { deleteServiceAccount(id: $id) }', { id: account.id }),
    );
    await once('removeMember', () =>
      gql('mutation ($slug: String!, $id: ID!) { removeMember(organizationSlug: $slug, userId: $id) }', {
        slug,
        id: invitee.id,
      }),
    );
    await once('deleteOrganization', () =>
      gql('mutation ($slug: String!) { deleteOrganization(slug: $slug) }', { slug }),
    );
    await once('undeleteOrganization', () =>
      gql('mutation ($slug: String!) { undeleteOrganization(slug: $slug) { slug } }', { slug }),
    );
  });

  it('holds for a user’s own tokens', async () => {
    const { createPersonalAccessToken } = await once('createPersonalAccessToken', () =>
      app.gql<{ createPersonalAccessToken: { token: { id: string } } }>(
        'mutation { createPersonalAccessToken(input: { name: "laptop" }) { token { id } } }',
        {},
        owner.token,
      ),
    );
    await once('revokePersonalAccessToken', () =>
      app.gql(
        'mutation ($id: ID!) { revokePersonalAccessToken(id: $id) }',
        { id: createPersonalAccessToken.token.id },
        owner.token,
      ),
    );
  });

  it('holds for a user’s sessions, password, e-mail and invitations', async () => {
    const user = await given(app).user();
    const LOG_IN = 'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken } }';
    const logIn = () =>
      once('logIn', () =>
        app.gql<{ logIn: { accessToken: string; refreshToken: string } }>(LOG_IN, {
          input: { email: user.email, password: user.password },
        }),
      );
    const first = (await logIn()).logIn;
    const { refreshSession } = await once('refreshSession', () =>
      app.gql<{ refreshSession: { accessToken: string } }>(
        'mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken } }',
        { t: first.refreshToken },
      ),
    );
    const { me } = ok(
      await app.gql<{ me: { sessions: { id: string; current: boolean }[] } }>(
        '{ me { sessions { id current } } }',
        {},
        refreshSession.accessToken,
      ),
    );
    const other = me.sessions.find((session) => !session.current && session.id);
    assert.ok(other, 'the user’s first session is listed beside this one');
    await once('revokeSession', () =>
      app.gql('mutation ($id: ID!) { revokeSession(id: $id) }', { id: other.id }, refreshSession.accessToken),
    );
    await once('requestEmailVerification', () =>
      app.gql('mutation { requestEmailVerification }', {}, refreshSession.accessToken),
    );
    await once('changePassword', () =>
      app.gql(
        'mutation ($input: ChangePasswordInput!) { changePassword(input: $input) }',
        { input: { currentPassword: user.password, newPassword: 'an entirely new passphrase' } },
        refreshSession.accessToken,
      ),
    );
    await once('revokeAllSessions', () => app.gql('mutation { revokeAllSessions }', {}, refreshSession.accessToken));
    user.password = 'an entirely new passphrase';
    const again = (await logIn()).logIn;
    await once('logOut', () => app.gql('mutation { logOut }', {}, again.accessToken));

    const organization = await given(app).organization({ owner });
    const invite = (email: string) =>
      app.gql<{ inviteMember: { invitation: { id: string } } }>(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { invitation { id } } }',
        { input: { organizationSlug: organization.slug, email, role: 'MEMBER' } },
        owner.token,
      );
    const { inviteMember } = await once('inviteMember', () => invite('invited-for-audit@example.com'));
    const id = inviteMember.invitation.id;
    await once('resendInvitation', () =>
      app.gql('mutation ($id: ID!) { resendInvitation(id: $id) { id } }', { id }, owner.token),
    );
    await once('revokeInvitation', () =>
      app.gql('mutation ($id: ID!) { revokeInvitation(id: $id) }', { id }, owner.token),
    );
  });
});
