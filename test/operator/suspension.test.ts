import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  given,
  ok,
  runScheduledJobs,
  untilActive,
  untilStatus,
  withoutChanges,
  type TestOrganization,
  type TestProject,
  type TestUser,
} from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const SUSPEND = `mutation ($slug: String!, $reason: String!) {
  suspendOrganization(slug: $slug, reason: $reason) { slug status suspendedAt suspensionReason }
}`;
const UNSUSPEND = 'mutation ($slug: String!) { unsuspendOrganization(slug: $slug) { status suspendedAt } }';
const READ = `query ($slug: String!) {
  organization(slug: $slug) { status suspendedAt suspensionReason projects { nodes { ref } } members { totalCount } }
}`;
const REASON = 'Terms of service, section 4: crypto mining';

interface Scene {
  owner: TestUser;
  member: TestUser;
  organization: TestOrganization;
  project: TestProject;
}

function codes(response: GraphQLResponse<unknown>): string[] {
  return (response.errors ?? []).map((error) => error.extensions.code);
}

describe('a suspended organization', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  let admin: TestUser;
  before(async () => {
    app = await startTestApp();
    make = given(app);
    admin = await make.platformUser();
  });
  after(() => app.close());

  async function suspendedScene(): Promise<Scene> {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const member = await make.member({ organization, role: 'MEMBER', by: owner });
    const project = await make.project({ organization, by: owner });
    await untilActive(app, project);
    await make.paymentMethod({ organization, by: owner });
    ok(await app.gql(SUSPEND, { slug: organization.slug, reason: REASON }, admin.token));
    // Its pause is under way: wait for it, so that nothing but the attempts below could change a row.
    await untilStatus(app, project, 'PAUSED');
    return { owner, member, organization, project };
  }

  it('is read by its members as before, with its status, time and reason, in as many statements as before', async () => {
    const { owner, member, organization } = await suspendedScene();
    for (const reader of [owner, member]) {
      const response = await app.gql<{ organization: Record<string, unknown> }>(
        READ,
        { slug: organization.slug },
        reader.token,
      );
      const { organization: found } = ok(response);
      assert.equal(found.status, 'SUSPENDED');
      assert.equal(found.suspensionReason, REASON);
      assert.ok(typeof found.suspendedAt === 'string');
      assert.equal(Number(response.headers.get('x-sql-statements')), 1, 'the suspension comes with the row');
    }
  });

  it('answers every change to it, its projects, members and keys but a withdrawal of access with ORGANIZATION_SUSPENDED and the reason, and changes nothing', async () => {
    const { owner, member, organization, project } = await suspendedScene();
    const slug = organization.slug;
    const ref = project.ref;
    const attempts: [string, Record<string, unknown>][] = [
      ['mutation ($slug: String!) { updateOrganization(slug: $slug, input: { name: "Renamed" }) { name } }', { slug }],
      ['mutation ($slug: String!) { deleteOrganization(slug: $slug) }', { slug }],
      [
        'mutation ($input: CreateProjectInput!) { createProject(input: $input) { ref } }',
        { input: { organizationSlug: slug, name: 'More', region: 'eu-west-1' } },
      ],
      ['mutation ($ref: String!) { updateProject(ref: $ref, input: { name: "Renamed" }) { name } }', { ref }],
      ['mutation ($ref: String!) { pauseProject(ref: $ref) { status } }', { ref }],
      ['mutation ($ref: String!) { deleteProject(ref: $ref) }', { ref }],
      [
        'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }',
        { input: { projectRef: ref, userId: member.id, accessLevel: 'WRITE' } },
      ],
      [
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        { input: { organizationSlug: slug, email: 'new@example.com', role: 'MEMBER' } },
      ],
      [
        'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
        { input: { organizationSlug: slug, userId: member.id, role: 'ADMIN' } },
      ],
      [
        'mutation ($input: ChangePlanInput!) { changePlan(input: $input) { status } }',
        { input: { organizationSlug: slug, planCode: 'pro' } },
      ],
      [
        'mutation ($input: UpdateBillingDetailsInput!) { updateBillingDetails(input: $input) { email } }',
        { input: { organizationSlug: slug, email: 'billing@example.com' } },
      ],
      ['mutation ($slug: String!) { cancelSubscription(organizationSlug: $slug) { status } }', { slug }],
    ];
    for (const [document, variables] of attempts) {
      const response = await withoutChanges(app, () => app.gql(document, variables, owner.token));
      assert.deepEqual(codes(response), ['ORGANIZATION_SUSPENDED'], document);
      assert.equal(response.errors?.[0].extensions.reason, REASON);
    }
    const leave = await withoutChanges(app, () =>
      app.gql('mutation ($slug: String!) { leaveOrganization(slug: $slug) }', { slug }, member.token),
    );
    assert.deepEqual(codes(leave), ['ORGANIZATION_SUSPENDED']);
  });

  it('still lets its owners withdraw access, so that a leak can be answered: rotate a secret, revoke a key and a grant, remove a member', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const member = await make.member({ organization, role: 'MEMBER', by: owner });
    const project = await make.project({ organization, by: owner });
    await untilActive(app, project);
    await make.grant({ project, user: member, level: 'READ', by: owner });
    const account = await make.serviceAccount({ organization, role: 'MEMBER', by: owner });
    const key = await make.apiKey({ serviceAccount: account, by: owner });
    const spareAccount = await make.serviceAccount({ organization, role: 'VIEWER', by: owner });
    ok(await app.gql(SUSPEND, { slug: organization.slug, reason: REASON }, admin.token));
    await untilStatus(app, project, 'PAUSED');
    const withdrawals: [string, Record<string, unknown>][] = [
      ['mutation ($ref: String!) { rotateProjectJwtSecret(ref: $ref) { anonKey } }', { ref: project.ref }],
      ['mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: key.id }],
      ['mutation ($id: ID!) { deleteServiceAccount(id: $id) }', { id: spareAccount.id }],
      [
        'mutation ($ref: String!, $userId: ID!) { revokeProjectPermission(projectRef: $ref, userId: $userId) }',
        { ref: project.ref, userId: member.id },
      ],
      [
        'mutation ($slug: String!, $id: ID!) { removeMember(organizationSlug: $slug, userId: $id) }',
        { slug: organization.slug, id: member.id },
      ],
    ];
    for (const [document, variables] of withdrawals) ok(await app.gql(document, variables, owner.token));
    assert.deepEqual(codes(await app.gql('{ viewer { kind } }', {}, key.secret)), ['UNAUTHENTICATED']);
    const minted = await app.gql(
      'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
      { input: { serviceAccountId: account.id, name: 'new' } },
      owner.token,
    );
    assert.deepEqual(codes(minted), ['ORGANIZATION_SUSPENDED'], 'granting access stays refused');
  });

  it('refuses an invitation to it, accepted by an existing account', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const invitee = await make.user();
    const { inviteMember } = ok(
      await app.gql<{ inviteMember: { token: string } }>(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        { input: { organizationSlug: organization.slug, email: invitee.email, role: 'VIEWER' } },
        owner.token,
      ),
    );
    ok(await app.gql(SUSPEND, { slug: organization.slug, reason: REASON }, admin.token));
    const accept = await withoutChanges(app, () =>
      app.gql(
        'mutation ($token: String!) { acceptInvitation(token: $token) { role } }',
        { token: inviteMember.token },
        invitee.token,
      ),
    );
    assert.deepEqual(codes(accept), ['ORGANIZATION_SUSPENDED']);
  });

  it('still lets its owners add a card and make it the default: what settles what it owes', async () => {
    const { owner, organization } = await suspendedScene();
    const card = await make.paymentMethod({ organization, by: owner, token: 'tok_mastercard' });
    const made = ok(
      await app.gql<{ setDefaultPaymentMethod: { isDefault: boolean } }>(
        'mutation ($slug: String!, $id: ID!) { setDefaultPaymentMethod(organizationSlug: $slug, id: $id) { isDefault } }',
        { slug: organization.slug, id: card.id },
        owner.token,
      ),
    );
    assert.equal(made.setDefaultPaymentMethod.isDefault, true);
  });

  it('has its running projects paused through the job queue; unsuspending leaves them paused, for the owners to restore', async () => {
    const { owner, organization, project } = await suspendedScene();
    const lifted = ok(
      await app.gql<{ unsuspendOrganization: { status: string; suspendedAt: null } }>(
        UNSUSPEND,
        { slug: organization.slug },
        admin.token,
      ),
    );
    assert.deepEqual(lifted.unsuspendOrganization, { status: 'ACTIVE', suspendedAt: null });
    const [row] = await app.sql<{ status: string }>('SELECT status FROM projects WHERE id = $1', [project.id]);
    assert.equal(row.status, 'PAUSED');
    ok(
      await app.gql(
        'mutation ($ref: String!) { restoreProject(ref: $ref) { status } }',
        { ref: project.ref },
        owner.token,
      ),
    );
    await untilActive(app, project);
  });

  it("enqueues the pause in the suspension's transaction: a suspension of an unknown organization enqueues nothing", async () => {
    const before = await app.sql<{ n: string }>("SELECT count(*) AS n FROM pgboss.job WHERE name = 'project-step'");
    const refused = await withoutChanges(app, () =>
      app.gql(SUSPEND, { slug: 'no-such-organization', reason: REASON }, admin.token),
    );
    assert.deepEqual(codes(refused), ['NOT_FOUND']);
    const after = await app.sql<{ n: string }>("SELECT count(*) AS n FROM pgboss.job WHERE name = 'project-step'");
    assert.equal(after[0].n, before[0].n);
  });

  it('has a project that came up after the suspension paused by the next hourly collection', async () => {
    const { organization, project } = await suspendedScene();
    // As if its start had finished after the suspension paused the others.
    await app.sql("UPDATE projects SET status = 'ACTIVE_HEALTHY' WHERE id = $1", [project.id]);
    const ran = await runScheduledJobs(app, new Date());
    assert.equal(ran.code, 0, ran.output);
    await untilStatus(app, project, 'PAUSED');
    const [row] = await app.sql<{ suspension_reason: string }>(
      'SELECT suspension_reason FROM organizations WHERE id = $1',
      [organization.id],
    );
    assert.equal(row.suspension_reason, REASON);
  });

  it('needs a reason: a blank one is BAD_USER_INPUT naming reason', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const refused = await withoutChanges(app, () =>
      app.gql(SUSPEND, { slug: organization.slug, reason: '  ' }, admin.token),
    );
    assert.deepEqual(codes(refused), ['BAD_USER_INPUT']);
    assert.deepEqual(
      (refused.errors?.[0].extensions.fields as { field: string }[]).map((f) => f.field),
      ['reason'],
    );
  });
});
