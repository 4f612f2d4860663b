import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAY_MS, given, ok, runScheduledJobs, untilActive } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';
import { startTestProvisioner, type TestProvisioner } from './provisioner-server';

const DELETE_ORGANIZATION = 'mutation ($slug: String!) { deleteOrganization(slug: $slug) }';
const UNDELETE_ORGANIZATION = 'mutation ($slug: String!) { undeleteOrganization(slug: $slug) { slug deletedAt } }';
const ORGANIZATION = 'query ($slug: String!) { organization(slug: $slug) { slug } }';
const DELETED_ORGANIZATIONS = '{ deletedOrganizations { totalCount nodes { slug deletedAt } } }';
const DELETE_PROJECT = 'mutation ($ref: String!) { deleteProject(ref: $ref) }';
const UNDELETE_PROJECT = 'mutation ($ref: String!) { undeleteProject(ref: $ref) { ref status deletedAt } }';
const PROJECT = 'query ($ref: String!) { project(ref: $ref) { ref status } }';
const DELETED_PROJECTS = `query ($slug: String!) {
  organization(slug: $slug) { deletedProjects { totalCount nodes { ref status deletedAt } } }
}`;

const codes = (response: { errors?: { extensions: { code: string } }[] }) =>
  response.errors?.map((error) => error.extensions.code);

describe('deletion with a grace period', () => {
  let app: TestApp;
  let provisioner: TestProvisioner;
  before(async () => {
    provisioner = await startTestProvisioner();
    app = await startTestApp({ PROVISIONER_URL: provisioner.url, DELETION_GRACE_DAYS: '7' });
  });
  after(async () => {
    await app.close();
    await provisioner.close();
  });

  it('a deleted project is hidden from everyone, listed for owners, undeleted as it was, and removed after the grace period', async () => {
    const make = given(app);
    const owner = await make.user();
    const admin = await make.user();
    const organization = await make.organization({ owner });
    await make.member({ organization, role: 'ADMIN', by: owner, user: admin });
    const project = await make.project({ organization, by: owner });
    await untilActive(app, project);

    ok(await app.gql(DELETE_PROJECT, { ref: project.ref }, owner.token));
    for (const caller of [owner, admin]) {
      assert.deepEqual(codes(await app.gql(PROJECT, { ref: project.ref }, caller.token)), ['NOT_FOUND']);
    }
    const listed = ok(
      await app.gql<{ organization: { deletedProjects: { nodes: { ref: string; status: string }[] } } }>(
        DELETED_PROJECTS,
        { slug: organization.slug },
        owner.token,
      ),
    );
    assert.deepEqual(
      listed.organization.deletedProjects.nodes.map((node) => [node.ref, node.status]),
      [[project.ref, 'GOING_DOWN']],
    );
    assert.deepEqual(codes(await app.gql(DELETED_PROJECTS, { slug: organization.slug }, admin.token)), ['FORBIDDEN']);
    assert.deepEqual(codes(await app.gql(UNDELETE_PROJECT, { ref: project.ref }, admin.token)), ['NOT_FOUND']);

    const undeleted = ok(
      await app.gql<{ undeleteProject: { status: string; deletedAt: string | null } }>(
        UNDELETE_PROJECT,
        { ref: project.ref },
        owner.token,
      ),
    );
    assert.deepEqual(undeleted.undeleteProject, { ref: project.ref, status: 'ACTIVE_HEALTHY', deletedAt: null });
    ok(await app.gql(PROJECT, { ref: project.ref }, admin.token));

    ok(await app.gql(DELETE_PROJECT, { ref: project.ref }, owner.token));
    const early = await runScheduledJobs(app, new Date(Date.now() + 6 * DAY_MS), { PROVISIONER_URL: provisioner.url });
    assert.equal(early.code, 0, early.output);
    assert.equal((await app.sql('SELECT id FROM projects WHERE id = $1', [project.id])).length, 1, 'kept in its grace');
    const due = await runScheduledJobs(app, new Date(Date.now() + 8 * DAY_MS), { PROVISIONER_URL: provisioner.url });
    assert.equal(due.code, 0, due.output);
    assert.deepEqual(await app.sql('SELECT id FROM projects WHERE id = $1', [project.id]), [], 'purged');
    assert.deepEqual(await app.sql('SELECT id FROM credentials WHERE project_id = $1', [project.id]), []);
    assert.deepEqual(
      provisioner.calls.filter((call) => call.ref === project.ref).map((call) => call.step),
      ['init', 'remove'],
      'removed by the provisioner once',
    );
  });

  it('a deleted organization is hidden, undeleted by its owner, and purged after the grace period with its invoices kept', async () => {
    const make = given(app);
    const owner = await make.user();
    const member = await make.user();
    const organization = await make.organization({ owner });
    await make.member({ organization, role: 'MEMBER', by: owner, user: member });
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    const { invoice } = await make.closePeriod({ organization });
    assert.ok(invoice);
    const project = await make.project({ organization, by: owner });
    await untilActive(app, project);

    ok(await app.gql(DELETE_ORGANIZATION, { slug: organization.slug }, owner.token));
    for (const caller of [owner, member]) {
      assert.deepEqual(codes(await app.gql(ORGANIZATION, { slug: organization.slug }, caller.token)), ['NOT_FOUND']);
      assert.deepEqual(codes(await app.gql(PROJECT, { ref: project.ref }, caller.token)), ['NOT_FOUND']);
    }
    const mine = ok(
      await app.gql<{ deletedOrganizations: { nodes: { slug: string }[] } }>(DELETED_ORGANIZATIONS, {}, owner.token),
    );
    assert.deepEqual(
      mine.deletedOrganizations.nodes.map((node) => node.slug),
      [organization.slug],
    );
    const theirs = ok(
      await app.gql<{ deletedOrganizations: { totalCount: number } }>(DELETED_ORGANIZATIONS, {}, member.token),
    );
    assert.equal(theirs.deletedOrganizations.totalCount, 0, 'only owners see deleted organizations');
    assert.deepEqual(codes(await app.gql(UNDELETE_ORGANIZATION, { slug: organization.slug }, member.token)), [
      'NOT_FOUND',
    ]);
    const taken = await app.gql(
      'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }',
      { input: { name: 'Squatter', slug: organization.slug } },
      member.token,
    );
    assert.deepEqual(codes(taken), ['CONFLICT'], 'the slug stays reserved until the purge');

    ok(await app.gql(UNDELETE_ORGANIZATION, { slug: organization.slug }, owner.token));
    ok(await app.gql(ORGANIZATION, { slug: organization.slug }, member.token));
    ok(await app.gql(PROJECT, { ref: project.ref }, owner.token));

    ok(await app.gql(DELETE_ORGANIZATION, { slug: organization.slug }, owner.token));
    const drafts = await app.sql<{ id: string }>(
      "SELECT id FROM invoices WHERE organization_id = $1 AND status = 'draft'",
      [organization.id],
    );
    assert.equal(drafts.length, 1, 'the period in progress has its draft');
    const due = await runScheduledJobs(app, new Date(Date.now() + 8 * DAY_MS), { PROVISIONER_URL: provisioner.url });
    assert.equal(due.code, 0, due.output);
    assert.deepEqual(await app.sql('SELECT id FROM organizations WHERE id = $1', [organization.id]), []);
    assert.deepEqual(await app.sql('SELECT id FROM projects WHERE id = $1', [project.id]), []);
    assert.deepEqual(await app.sql('SELECT id FROM user_roles WHERE organization_id = $1', [organization.id]), []);
    const kept = await app.sql<{ organization_id: string | null }>(
      'SELECT organization_id FROM invoices WHERE id = $1',
      [invoice.id],
    );
    assert.deepEqual(kept, [{ organization_id: null }], 'billing records outlive the organization');
    assert.deepEqual(
      await app.sql('SELECT id FROM invoices WHERE id = $1', [drafts[0].id]),
      [],
      'a draft was never issued: it goes with its organization',
    );
    assert.ok(provisioner.calls.some((call) => call.ref === project.ref && call.step === 'remove'));
    ok(
      await app.gql(
        'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }',
        { input: { name: 'Reused', slug: organization.slug } },
        member.token,
      ),
    );
  });

  it('past the grace period, undeleting is refused: the purge is due', async () => {
    const make = given(app);
    const owner = await make.user();
    const organization = await make.organization({ owner });
    ok(await app.gql(DELETE_ORGANIZATION, { slug: organization.slug }, owner.token));
    await app.sql("UPDATE organizations SET deleted_at = now() - interval '8 days' WHERE id = $1", [organization.id]);
    const late = await app.gql(UNDELETE_ORGANIZATION, { slug: organization.slug }, owner.token);
    assert.deepEqual(codes(late), ['CONFLICT']);
  });

  it('deleted projects do not count against the plan limit', async () => {
    const make = given(app);
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const first = await make.project({ organization, by: owner });
    await make.project({ organization, by: owner });
    ok(await app.gql(DELETE_PROJECT, { ref: first.ref }, owner.token));
    const third = await make.project({ organization, by: owner });
    await untilActive(app, third);
    // Undeleting it would go beyond the free plan's 2 active projects.
    const over = await app.gql(UNDELETE_PROJECT, { ref: first.ref }, owner.token);
    assert.deepEqual(codes(over), ['PLAN_LIMIT_REACHED']);
  });

  it('the scheduled run expires invitations past their expiry', async () => {
    const make = given(app);
    const owner = await make.user();
    const organization = await make.organization({ owner });
    ok(
      await app.gql(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        { input: { organizationSlug: organization.slug, email: 'later@example.com', role: 'MEMBER' } },
        owner.token,
      ),
    );
    const run = await runScheduledJobs(app, new Date(Date.now() + 8 * DAY_MS), { PROVISIONER_URL: provisioner.url });
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(await app.sql('SELECT id FROM invitations WHERE organization_id = $1', [organization.id]), []);
  });
});
