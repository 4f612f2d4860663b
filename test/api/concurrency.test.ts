import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  eventually,
  given,
  holdRowLock,
  lockWaiterCount,
  lockWaiters,
  ok,
  type TestOrganization,
  type TestUser,
  untilActive,
} from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

type Response = GraphQLResponse<unknown>;

/** Fires `count` requests together and waits for all of them. */
function race(count: number, request: (index: number) => Promise<Response>): Promise<Response[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => request(index)));
}

/** Splits racing responses into the ones that succeeded and the errors of the others. */
function outcome(responses: Response[]): { winners: Response[]; losers: NonNullable<Response['errors']>[number][] } {
  const winners = responses.filter((response) => !response.errors);
  const losers = responses.flatMap((response) => response.errors ?? []);
  for (const loser of losers) assert.doesNotMatch(loser.message, /select|insert|update|constraint|at .*\.js/i);
  return { winners, losers };
}

function codes(errors: { extensions: { code: string } }[]): string[] {
  return errors.map((error) => error.extensions.code);
}

const CREATE_ORGANIZATION =
  'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { id slug } }';
const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }';
const INVITE = 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }';
const ACCEPT = 'mutation ($token: String!) { acceptInvitation(token: $token) { role } }';
const UPDATE_ROLE = 'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }';
const LEAVE = 'mutation ($slug: String!) { leaveOrganization(slug: $slug) }';
const REMOVE_MEMBER =
  'mutation ($slug: String!, $userId: ID!) { removeMember(organizationSlug: $slug, userId: $userId) }';
const GRANT =
  'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }';
const PAUSE = 'mutation ($ref: String!) { pauseProject(ref: $ref) { status } }';

describe('racing requests', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());

  async function owners(organization: TestOrganization): Promise<string[]> {
    const rows = await app.sql<{ user_id: string }>(
      "SELECT user_id FROM user_roles WHERE organization_id = $1 AND role = 'owner' ORDER BY user_id",
      [organization.id],
    );
    return rows.map((row) => row.user_id);
  }

  /** An organization with two owners: `first` created it, `second` was made owner by invitation. */
  async function coOwned(first: TestUser, second: TestUser): Promise<TestOrganization> {
    const organization = await make.organization({ owner: first });
    await make.member({ organization, role: 'OWNER', by: first, user: second });
    return organization;
  }

  it('of concurrent creations with one chosen slug, one succeeds and the others are a CONFLICT on slug', async () => {
    const owner = await make.user();
    const slug = `race-${randomBytes(4).toString('hex')}`;
    const { winners, losers } = outcome(
      await race(6, (i) => app.gql(CREATE_ORGANIZATION, { input: { name: `Racer ${i}`, slug } }, owner.token)),
    );
    assert.equal(winners.length, 1);
    assert.deepEqual(codes(losers), Array(5).fill('CONFLICT'));
    for (const loser of losers) assert.equal(loser.extensions.field, 'slug');
    const rows = await app.sql<{ id: string }>('SELECT id FROM organizations WHERE slug = $1', [slug]);
    assert.equal(rows.length, 1);
    const roles = await app.sql('SELECT role FROM user_roles WHERE organization_id = $1', [rows[0].id]);
    assert.deepEqual(roles, [{ role: 'owner' }], 'the losers left no membership behind');
  });

  it('concurrent creations from one name all succeed with distinct generated slugs', async () => {
    const owner = await make.user();
    const name = `Same Name ${randomBytes(3).toString('hex')}`;
    const responses = await race(5, () => app.gql(CREATE_ORGANIZATION, { input: { name } }, owner.token));
    const slugs = responses
      .map((response) => ok(response as GraphQLResponse<{ createOrganization: { slug: string } }>))
      .map((data) => data.createOrganization.slug);
    assert.equal(new Set(slugs).size, 5);
    const [row] = await app.sql<{ count: number }>(
      "SELECT count(*)::int AS count FROM user_roles WHERE user_id = $1 AND role = 'owner'",
      [owner.id],
    );
    assert.equal(row.count, 5);
  });

  it('of two owners leaving at once, one leaves and the other stays as the last owner', async () => {
    const [alice, bob] = [await make.user(), await make.user()];
    for (let round = 0; round < 3; round += 1) {
      const organization = await coOwned(alice, bob);
      const responses = await Promise.all([
        app.gql(LEAVE, { slug: organization.slug }, alice.token),
        app.gql(LEAVE, { slug: organization.slug }, bob.token),
      ]);
      const { winners, losers } = outcome(responses);
      assert.equal(winners.length, 1);
      assert.deepEqual(codes(losers), ['CONFLICT']);
      const loser = responses[0].errors ? alice : bob;
      assert.deepEqual(await owners(organization), [loser.id], 'an organization always keeps one owner');
    }
  });

  it('of two owners demoting each other at once, one is demoted and the other stays the last owner', async () => {
    const [alice, bob] = [await make.user(), await make.user()];
    for (let round = 0; round < 3; round += 1) {
      const organization = await coOwned(alice, bob);
      const demote = (by: TestUser, target: TestUser) =>
        app.gql(
          UPDATE_ROLE,
          { input: { organizationSlug: organization.slug, userId: target.id, role: 'ADMIN' } },
          by.token,
        );
      const responses = await Promise.all([demote(alice, bob), demote(bob, alice)]);
      const { winners, losers } = outcome(responses);
      assert.equal(winners.length, 1);
      // By the time its change applies, the loser is an admin: it may no longer change an owner.
      assert.deepEqual(codes(losers), ['FORBIDDEN']);
      const winner = responses[0].errors ? bob : alice;
      assert.deepEqual(await owners(organization), [winner.id], 'an organization always keeps one owner');
    }
  });

  it("a membership change is judged by the caller's role when it runs, not when it arrived", async () => {
    const [alice, bob] = [await make.user(), await make.user()];
    const organization = await coOwned(alice, bob);
    const carol = await make.member({ organization, role: 'MEMBER', by: alice });
    // Queue Alice's demotion of Bob ahead of Bob's promotion of Carol, both after Bob's role was read.
    const lock = await holdRowLock(app, 'organizations', organization.id);
    try {
      const demotion = app.gql(
        UPDATE_ROLE,
        { input: { organizationSlug: organization.slug, userId: bob.id, role: 'ADMIN' } },
        alice.token,
      );
      await lockWaiters(app, 1);
      const promotion = app.gql(
        UPDATE_ROLE,
        { input: { organizationSlug: organization.slug, userId: carol.id, role: 'OWNER' } },
        bob.token,
      );
      await lockWaiters(app, 2);
      await lock.release();
      ok(await demotion);
      assert.equal((await promotion).errors?.[0].extensions.code, 'FORBIDDEN', 'an admin cannot make an owner');
      assert.deepEqual(await owners(organization), [alice.id]);
    } finally {
      await lock.release();
    }
  });

  it('one invitation accepted by several requests at once makes one membership', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const invitee = await make.user();
    const { inviteMember } = ok(
      await app.gql<{ inviteMember: { token: string } }>(
        INVITE,
        { input: { organizationSlug: organization.slug, email: invitee.email, role: 'MEMBER' } },
        owner.token,
      ),
    );
    const { winners, losers } = outcome(
      await race(5, () => app.gql(ACCEPT, { token: inviteMember.token }, invitee.token)),
    );
    assert.equal(winners.length, 1);
    assert.equal(losers.length, 4);
    for (const code of codes(losers)) assert.ok(['NOT_FOUND', 'CONFLICT'].includes(code), code);
    const rows = await app.sql('SELECT role FROM user_roles WHERE organization_id = $1 AND user_id = $2', [
      organization.id,
      invitee.id,
    ]);
    assert.deepEqual(rows, [{ role: 'member' }]);
    const [invitation] = await app.sql<{ accepted_by_id: string }>(
      'SELECT accepted_by_id FROM invitations WHERE organization_id = $1',
      [organization.id],
    );
    assert.equal(invitation.accepted_by_id, invitee.id);
  });

  it('of concurrent sign-ups with one e-mail in different letter case, one succeeds and the others are a CONFLICT on email', async () => {
    const local = `racer-${randomBytes(4).toString('hex')}`;
    const spellings = [`${local}@example.com`, `${local.toUpperCase()}@EXAMPLE.COM`, ` ${local}@Example.Com `];
    const { winners, losers } = outcome(
      await race(spellings.length, (i) =>
        app.gql(SIGN_UP, { input: { email: spellings[i], password: 'a long enough password', displayName: 'Racer' } }),
      ),
    );
    assert.equal(winners.length, 1);
    assert.deepEqual(codes(losers), ['CONFLICT', 'CONFLICT']);
    for (const loser of losers) assert.equal(loser.extensions.field, 'email');
    const rows = await app.sql('SELECT email FROM users WHERE lower(email) = $1', [`${local}@example.com`]);
    assert.deepEqual(rows, [{ email: `${local}@example.com` }]);
  });

  it('concurrent role changes of one member leave one of the requested roles and one membership', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const member = await make.member({ organization, role: 'MEMBER', by: owner });
    const roles = ['ADMIN', 'VIEWER', 'MEMBER', 'ADMIN', 'VIEWER'];
    const responses = await race(roles.length, (i) =>
      app.gql(
        UPDATE_ROLE,
        { input: { organizationSlug: organization.slug, userId: member.id, role: roles[i] } },
        owner.token,
      ),
    );
    for (const response of responses) ok(response);
    const rows = await app.sql<{ role: string }>(
      'SELECT role FROM user_roles WHERE organization_id = $1 AND user_id = $2',
      [organization.id, member.id],
    );
    assert.equal(rows.length, 1);
    assert.ok(roles.map((role) => role.toLowerCase()).includes(rows[0].role), rows[0].role);
  });

  it('concurrent invitations of one e-mail leave one pending invitation', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const email = `invitee-${randomBytes(4).toString('hex')}@example.com`;
    const { winners, losers } = outcome(
      await race(4, () =>
        app.gql(INVITE, { input: { organizationSlug: organization.slug, email, role: 'VIEWER' } }, owner.token),
      ),
    );
    assert.ok(winners.length >= 1);
    for (const loser of losers) {
      assert.equal(loser.extensions.code, 'CONFLICT');
      assert.equal(loser.extensions.field, 'email');
    }
    const rows = await app.sql('SELECT id FROM invitations WHERE organization_id = $1 AND accepted_at IS NULL', [
      organization.id,
    ]);
    assert.equal(rows.length, 1);
  });

  it('of concurrent pauses of one project, one pauses it and the others are a CONFLICT on status', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const project = await make.project({ organization, by: owner });
    await untilActive(app, project);
    const { winners, losers } = outcome(await race(4, () => app.gql(PAUSE, { ref: project.ref }, owner.token)));
    assert.equal(winners.length, 1);
    assert.deepEqual(codes(losers), ['CONFLICT', 'CONFLICT', 'CONFLICT']);
    for (const loser of losers) assert.equal(loser.extensions.field, 'status');
  });

  it('a grant racing the removal of its member leaves no grant behind', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const project = await make.project({ organization, by: owner });
    const member = await make.member({ organization, role: 'MEMBER', by: owner });
    await untilActive(app, project);
    // Holding the project row pauses the grant between its membership check and its write.
    const lock = await holdRowLock(app, 'projects', project.id);
    try {
      const grant = app.gql(
        GRANT,
        { input: { projectRef: project.ref, userId: member.id, accessLevel: 'WRITE' } },
        owner.token,
      );
      await lockWaiters(app, 1);
      let removed = false;
      const removal = app
        .gql(REMOVE_MEMBER, { slug: organization.slug, userId: member.id }, owner.token)
        .finally(() => (removed = true));
      // The removal either finishes while the grant is paused or queues behind it.
      await eventually(async () => assert.ok(removed || (await lockWaiterCount(app)) === 2));
      await lock.release();
      const [granted, removedResponse] = await Promise.all([grant, removal]);
      ok(removedResponse);
      if (granted.errors) assert.equal(granted.errors[0].extensions.code, 'BAD_USER_INPUT');
    } finally {
      await lock.release();
    }
    assert.deepEqual(await app.sql('SELECT id FROM user_roles WHERE user_id = $1', [member.id]), []);
    assert.deepEqual(
      await app.sql('SELECT access_level FROM permissions WHERE user_id = $1', [member.id]),
      [],
      'removing a member removes their grants',
    );
  });
});
