import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { given, ok, withoutChanges, type TestOrganization, type TestProject, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

const CREATE = 'mutation ($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { id name role } }';
const UPDATE =
  'mutation ($id: ID!, $input: UpdateServiceAccountInput!) { updateServiceAccount(id: $id, input: $input) { id name role } }';
const DELETE = 'mutation ($id: ID!) { deleteServiceAccount(id: $id) }';
const GRANT =
  'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel user { id } serviceAccount { id name } } }';
/** The input fields a BAD_USER_INPUT names. */
function fieldsOf(response: { errors?: { extensions: Record<string, unknown> }[] }): string[] {
  return ((response.errors?.[0].extensions.fields as { field: string }[] | undefined) ?? []).map((p) => p.field);
}

const REVOKE_GRANT =
  'mutation ($ref: String!, $userId: ID, $serviceAccountId: ID) { revokeProjectPermission(projectRef: $ref, userId: $userId, serviceAccountId: $serviceAccountId) }';

describe('service accounts', () => {
  let app: TestApp;
  let owner: TestUser;
  let admin: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let organization: TestOrganization;
  let project: TestProject;

  before(async () => {
    app = await startTestApp();
    const make = given(app);
    [owner, admin, member, outsider] = await Promise.all([make.user(), make.user(), make.user(), make.user()]);
    organization = await make.organization({ owner });
    await make.member({ organization, role: 'ADMIN', by: owner, user: admin });
    await make.member({ organization, role: 'MEMBER', by: owner, user: member });
    await make.organization({ owner: outsider });
    project = await make.project({ organization, by: owner });
  });
  after(() => app.close());

  const input = (role: string, name = `robot-${Math.random().toString(36).slice(2, 8)}`) => ({
    input: { organizationSlug: organization.slug, name, role },
  });

  it('an admin creates a service account up to admin, and it is listed with its creator for those who manage members', async () => {
    const data = ok(
      await app.gql<{ createServiceAccount: { id: string; role: string } }>(CREATE, input('ADMIN', 'ci'), admin.token),
    );
    assert.equal(data.createServiceAccount.role, 'ADMIN');
    const listed = ok(
      await app.gql<{ organization: { serviceAccounts: { totalCount: number; nodes: Record<string, unknown>[] } } }>(
        'query ($slug: String!) { organization(slug: $slug) { serviceAccounts { totalCount nodes { id name role createdBy { id email } apiKeys { id } } } } }',
        { slug: organization.slug },
        admin.token,
      ),
    );
    const found = listed.organization.serviceAccounts.nodes.find((node) => node.id === data.createServiceAccount.id);
    assert.deepEqual(found, {
      id: data.createServiceAccount.id,
      name: 'ci',
      role: 'ADMIN',
      createdBy: { id: admin.id, email: admin.email },
      apiKeys: [],
    });
  });

  it('a service account is never an owner: BAD_USER_INPUT on role, and nothing is written', async () => {
    const response = await withoutChanges(app, () => app.gql(CREATE, input('OWNER'), owner.token));
    assert.equal(response.errors?.[0].extensions.code, 'BAD_USER_INPUT');
    assert.deepEqual(fieldsOf(response), ['role']);
  });

  it('a service account cannot be raised to owner either', async () => {
    const account = await given(app).serviceAccount({ organization, role: 'MEMBER', by: owner });
    const response = await withoutChanges(app, () =>
      app.gql(UPDATE, { id: account.id, input: { role: 'OWNER' } }, owner.token),
    );
    assert.equal(response.errors?.[0].extensions.code, 'BAD_USER_INPUT');
    assert.deepEqual(fieldsOf(response), ['role']);
  });

  it('a member, who may not manage members, cannot create or see service accounts (FORBIDDEN)', async () => {
    const created = await withoutChanges(app, () => app.gql(CREATE, input('VIEWER'), member.token));
    assert.equal(created.errors?.[0].extensions.code, 'FORBIDDEN');
    const listed = await app.gql(
      'query ($slug: String!) { organization(slug: $slug) { serviceAccounts { totalCount } } }',
      { slug: organization.slug },
      member.token,
    );
    assert.equal(listed.errors?.[0].extensions.code, 'FORBIDDEN');
  });

  it('two service accounts of one organization cannot share a name (CONFLICT on name)', async () => {
    ok(await app.gql(CREATE, input('VIEWER', 'nightly'), owner.token));
    const response = await withoutChanges(app, () => app.gql(CREATE, input('MEMBER', 'nightly'), owner.token));
    assert.equal(response.errors?.[0].extensions.code, 'CONFLICT');
    assert.equal(response.errors?.[0].extensions.field, 'name');
  });

  it("an outsider gets NOT_FOUND for another organization's service account, whatever they try", async () => {
    const account = await given(app).serviceAccount({ organization, role: 'MEMBER', by: owner });
    for (const [document, variables] of [
      [UPDATE, { id: account.id, input: { name: 'mine now' } }],
      [DELETE, { id: account.id }],
      [
        'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
        { input: { serviceAccountId: account.id, name: 'stolen' } },
      ],
    ] as const) {
      const response = await withoutChanges(app, () => app.gql(document, variables, outsider.token));
      assert.equal(response.errors?.[0].extensions.code, 'NOT_FOUND', document);
    }
  });

  it('an unknown or malformed service account id is NOT_FOUND, not a server error', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      const response = await app.gql(DELETE, { id }, owner.token);
      assert.equal(response.errors?.[0].extensions.code, 'NOT_FOUND', id);
    }
  });

  it('a service account is granted project access like a member, capped by its role, and the grant is listed', async () => {
    const make = given(app);
    const viewer = await make.serviceAccount({ organization, role: 'VIEWER', by: owner });
    const tooMuch = await withoutChanges(app, () =>
      app.gql(
        GRANT,
        { input: { projectRef: project.ref, serviceAccountId: viewer.id, accessLevel: 'WRITE' } },
        owner.token,
      ),
    );
    assert.equal(tooMuch.errors?.[0].extensions.code, 'BAD_USER_INPUT');
    assert.deepEqual(fieldsOf(tooMuch), ['accessLevel']);
    const granted = ok(
      await app.gql<{ grantProjectPermission: unknown }>(
        GRANT,
        { input: { projectRef: project.ref, serviceAccountId: viewer.id, accessLevel: 'READ' } },
        owner.token,
      ),
    );
    assert.deepEqual(granted.grantProjectPermission, {
      accessLevel: 'READ',
      user: null,
      serviceAccount: { id: viewer.id, name: viewer.name },
    });
    const listed = ok(
      await app.gql<{ project: { permissions: { nodes: { serviceAccount: { id: string } | null }[] } } }>(
        'query ($ref: String!) { project(ref: $ref) { permissions { nodes { accessLevel serviceAccount { id } } } } }',
        { ref: project.ref },
        owner.token,
      ),
    );
    assert.ok(listed.project.permissions.nodes.some((node) => node.serviceAccount?.id === viewer.id));
    ok(await app.gql(REVOKE_GRANT, { ref: project.ref, serviceAccountId: viewer.id }, owner.token));
    assert.deepEqual(await app.sql('SELECT id FROM permissions WHERE service_account_id = $1', [viewer.id]), []);
  });

  it('a grant names one grantee: both or neither is BAD_USER_INPUT', async () => {
    const account = await given(app).serviceAccount({ organization, role: 'MEMBER', by: owner });
    for (const ids of [{}, { userId: member.id, serviceAccountId: account.id }]) {
      const response = await withoutChanges(app, () =>
        app.gql(GRANT, { input: { projectRef: project.ref, accessLevel: 'READ', ...ids } }, owner.token),
      );
      assert.equal(response.errors?.[0].extensions.code, 'BAD_USER_INPUT', JSON.stringify(ids));
    }
  });

  it("another organization's service account cannot be granted access to this one's project", async () => {
    const elsewhere = await given(app).organization({ owner });
    const foreign = await given(app).serviceAccount({ organization: elsewhere, role: 'ADMIN', by: owner });
    const response = await withoutChanges(app, () =>
      app.gql(
        GRANT,
        { input: { projectRef: project.ref, serviceAccountId: foreign.id, accessLevel: 'READ' } },
        owner.token,
      ),
    );
    assert.equal(response.errors?.[0].extensions.code, 'BAD_USER_INPUT');
    assert.deepEqual(fieldsOf(response), ['serviceAccountId']);
  });

  it('lowering a service account to viewer lowers its grants to read, in the same change', async () => {
    const make = given(app);
    const account = await make.serviceAccount({ organization, role: 'MEMBER', by: owner });
    await make.grantServiceAccount({ project, serviceAccount: account, level: 'ADMIN', by: owner });
    const data = ok(
      await app.gql<{ updateServiceAccount: { role: string } }>(
        UPDATE,
        { id: account.id, input: { role: 'VIEWER' } },
        admin.token,
      ),
    );
    assert.equal(data.updateServiceAccount.role, 'VIEWER');
    const [grant] = await app.sql<{ access_level: string }>(
      'SELECT access_level FROM permissions WHERE service_account_id = $1',
      [account.id],
    );
    assert.equal(grant.access_level, 'read');
  });

  it("a grant shows the service account to the project's readers, but its keys and creator only to those who manage members", async () => {
    const make = given(app);
    const account = await make.serviceAccount({ organization, role: 'VIEWER', by: owner });
    await make.grantServiceAccount({ project, serviceAccount: account, level: 'READ', by: owner });
    await make.apiKey({ serviceAccount: account, by: owner });
    await make.grant({ project, user: member, level: 'READ', by: owner });
    const query = (fields: string) =>
      `query ($ref: String!) { project(ref: $ref) { permissions { nodes { serviceAccount { ${fields} } } } } }`;
    type Answer = {
      project: { permissions: { nodes: { serviceAccount: { name: string; apiKeys?: unknown[] } | null }[] } };
    };
    const named = (answer: Answer) =>
      answer.project.permissions.nodes.find((node) => node.serviceAccount?.name === account.name)?.serviceAccount;
    assert.ok(named(ok(await app.gql<Answer>(query('name'), { ref: project.ref }, member.token))));
    const refused = await app.gql<Answer>(
      query('name apiKeys { name } createdBy { email }'),
      { ref: project.ref },
      member.token,
    );
    assert.deepEqual(
      [...new Set((refused.errors ?? []).map((error) => `${error.path?.at(-1)} ${error.extensions.code}`))].sort(),
      ['apiKeys FORBIDDEN', 'createdBy FORBIDDEN'],
    );
    const managed = ok(await app.gql<Answer>(query('name apiKeys { name }'), { ref: project.ref }, admin.token));
    assert.equal(named(managed)?.apiKeys?.length, 1);
  });

  it('deleting a service account removes its grants and keys', async () => {
    const make = given(app);
    const account = await make.serviceAccount({ organization, role: 'MEMBER', by: owner });
    await make.grantServiceAccount({ project, serviceAccount: account, level: 'WRITE', by: owner });
    await make.apiKey({ serviceAccount: account, by: owner });
    assert.equal(
      ok(await app.gql<{ deleteServiceAccount: boolean }>(DELETE, { id: account.id }, admin.token))
        .deleteServiceAccount,
      true,
    );
    assert.deepEqual(await app.sql('SELECT id FROM permissions WHERE service_account_id = $1', [account.id]), []);
    assert.deepEqual(await app.sql('SELECT id FROM access_keys WHERE service_account_id = $1', [account.id]), []);
  });
});
