import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  given,
  holdRowLock,
  lockWaiters,
  ok,
  type TestOrganization,
  type TestProject,
  type TestUser,
  untilActive,
} from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

type Response = GraphQLResponse<unknown>;

const DELETE_ORGANIZATION = 'mutation ($slug: String!) { deleteOrganization(slug: $slug) }';
const DELETE_PROJECT = 'mutation ($ref: String!) { deleteProject(ref: $ref) }';
const CREATE_PROJECT = 'mutation ($input: CreateProjectInput!) { createProject(input: $input) { id } }';
const INVITE = 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }';
const ACCEPT = 'mutation ($token: String!) { acceptInvitation(token: $token) { role } }';
const UPDATE_ORGANIZATION =
  'mutation ($slug: String!, $input: UpdateOrganizationInput!) { updateOrganization(slug: $slug, input: $input) { id } }';
const ADD_PAYMENT_METHOD = 'mutation ($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) { id } }';
const GRANT =
  'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }';

/** The one error of a response that failed. */
function failure(response: Response): { message: string; code: string } {
  assert.equal(response.errors?.length, 1, JSON.stringify(response));
  const [error] = response.errors;
  return { message: error.message, code: error.extensions.code };
}

/** The write failed as the thing it wrote to being gone: NOT_FOUND, naming the kind. */
function assertGone(response: Response, kind: string): void {
  const { code, message } = failure(response);
  assert.equal(code, 'NOT_FOUND');
  assert.match(message, new RegExp(`^${kind}( "[^"]*")? was not found$`));
}

describe('a write racing the deletion of what it writes to', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());

  /**
   * Runs `write` while `deletion` removes the row it refers to, the deletion first: a lock held on
   * the row queues the deletion, then the write, behind it; releasing it lets the deletion commit
   * while the write is under way.
   */
  async function deletedDuring(
    table: 'organizations' | 'projects',
    id: string,
    deletion: () => Promise<Response>,
    write: () => Promise<Response>,
  ): Promise<{ deleted: Response; written: Response }> {
    const lock = await holdRowLock(app, table, id);
    try {
      const deleting = deletion();
      await lockWaiters(app, 1);
      const writing = write();
      await lockWaiters(app, 2);
      await lock.release();
      const [deleted, written] = await Promise.all([deleting, writing]);
      ok(deleted);
      return { deleted, written };
    } finally {
      await lock.release();
    }
  }

  function deleteOrganization(owner: TestUser, organization: TestOrganization) {
    return () => app.gql(DELETE_ORGANIZATION, { slug: organization.slug }, owner.token);
  }

  async function count(sql: string, params: unknown[]): Promise<number> {
    const [row] = await app.sql<{ count: number }>(`SELECT count(*)::int AS count FROM ${sql}`, params);
    return row.count;
  }

  it('a project created in an organization being deleted is NOT_FOUND, and no project is written', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const { written } = await deletedDuring(
      'organizations',
      organization.id,
      deleteOrganization(owner, organization),
      () =>
        app.gql(
          CREATE_PROJECT,
          { input: { organizationSlug: organization.slug, name: 'Too late', region: 'eu-west-1' } },
          owner.token,
        ),
    );
    assertGone(written, 'Organization');
    assert.equal(await count('projects WHERE organization_id = $1', [organization.id]), 0);
  });

  it('an invitation to an organization being deleted is NOT_FOUND, and no invitation is written', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const email = `late-${organization.id}@example.com`;
    const { written } = await deletedDuring(
      'organizations',
      organization.id,
      deleteOrganization(owner, organization),
      () => app.gql(INVITE, { input: { organizationSlug: organization.slug, email, role: 'MEMBER' } }, owner.token),
    );
    assertGone(written, 'Organization');
    assert.equal(await count('invitations WHERE email = $1', [email]), 0);
  });

  it('an update of an organization being deleted is NOT_FOUND, and the organization stays deleted', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const { written } = await deletedDuring(
      'organizations',
      organization.id,
      deleteOrganization(owner, organization),
      () => app.gql(UPDATE_ORGANIZATION, { slug: organization.slug, input: { name: 'Renamed' } }, owner.token),
    );
    assertGone(written, 'Organization');
    assert.equal(
      await count('organizations WHERE id = $1 AND deleted_at IS NOT NULL AND name <> $2', [
        organization.id,
        'Renamed',
      ]),
      1,
    );
  });

  it('a card added to an organization being deleted is NOT_FOUND, and no payment method is written', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const { written } = await deletedDuring(
      'organizations',
      organization.id,
      deleteOrganization(owner, organization),
      () =>
        app.gql(ADD_PAYMENT_METHOD, { input: { organizationSlug: organization.slug, token: 'tok_visa' } }, owner.token),
    );
    assertGone(written, 'Organization');
    assert.equal(await count('payment_methods WHERE organization_id = $1', [organization.id]), 0);
  });

  it('a grant on a project being deleted is NOT_FOUND, and no grant is written', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const member = await make.member({ organization, role: 'MEMBER', by: owner });
    const project: TestProject = await make.project({ organization, by: owner });
    await untilActive(app, project);
    const { written } = await deletedDuring(
      'projects',
      project.id,
      () => app.gql(DELETE_PROJECT, { ref: project.ref }, owner.token),
      () => app.gql(GRANT, { input: { projectRef: project.ref, userId: member.id, accessLevel: 'READ' } }, owner.token),
    );
    assertGone(written, 'Project');
    assert.equal(await count('permissions WHERE project_id = $1 AND user_id = $2', [project.id, member.id]), 0);
  });

  it('an invitation accepted while its organization is deleted ends in one outcome, never an internal error', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const invitee = await make.user();
    const invited = ok(
      await app.gql<{ inviteMember: { token: string } }>(
        INVITE,
        { input: { organizationSlug: organization.slug, email: invitee.email, role: 'MEMBER' } },
        owner.token,
      ),
    );
    // The acceptance takes the organization's lock before the invitation's: it waits for the deletion, then finds it deleted.
    const { written } = await deletedDuring(
      'organizations',
      organization.id,
      deleteOrganization(owner, organization),
      () => app.gql(ACCEPT, { token: invited.inviteMember.token }, invitee.token),
    );
    assert.deepEqual(failure(written).code, 'NOT_FOUND');
    assert.equal(await count('organizations WHERE id = $1 AND deleted_at IS NOT NULL', [organization.id]), 1);
    assert.equal(await count('user_roles WHERE user_id = $1', [invitee.id]), 0);
  });
});
