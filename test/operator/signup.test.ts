import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPlatformInvitation } from '../../src/services/platform-admin.service';
import { given, ok, withoutChanges, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken user { id email } } }';
const INVITE_PLATFORM =
  'mutation ($email: String!) { invitePlatformUser(email: $email) { invitation { email expiresAt } token } }';
const INVITE_MEMBER = 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }';
const MY_ORGANIZATIONS = '{ organizations { nodes { slug myRole } } }';

function codes(response: GraphQLResponse<unknown>): string[] {
  return (response.errors ?? []).map((error) => error.extensions.code);
}

let sequence = 0;
function address(): string {
  sequence += 1;
  return `signup-${Date.now().toString(36)}-${sequence}@example.com`;
}

function signUp(app: TestApp, email: string, invitationToken?: string) {
  return app.gql<{ signUp: { accessToken: string; user: { id: string; email: string } } }>(SIGN_UP, {
    input: { email, password: 'a long enough password', displayName: 'New Person', invitationToken },
  });
}

/** The platform admin's and an organization owner's invitations, on an app started with `env`. */
function scene(env: Record<string, string>) {
  const state = {} as { app: TestApp; make: ReturnType<typeof given>; admin: TestUser; owner: TestUser; slug: string };
  before(async () => {
    state.app = await startTestApp(env);
    state.make = given(state.app);
    state.admin = await seedUser(state);
    state.owner = await seedUser(state);
    state.slug = (await state.make.organization({ owner: state.owner })).slug;
    await state.make.platformUser({ user: state.admin });
  });
  after(() => state.app.close());
  return state;
}

/** An account made with a platform invitation from the command line, as a closed installation's first users are. */
async function seedUser(state: { app: TestApp }): Promise<TestUser> {
  const email = address();
  const { token } = await state.app.server.dataSource.transaction((tx) => createPlatformInvitation(tx, email, null));
  const signed = ok(await signUp(state.app, email, token));
  return { id: signed.signUp.user.id, email, password: 'a long enough password', token: signed.signUp.accessToken };
}

async function platformInvitation(state: { app: TestApp; admin: TestUser }, email: string): Promise<string> {
  const data = ok(
    await state.app.gql<{ invitePlatformUser: { token: string } }>(INVITE_PLATFORM, { email }, state.admin.token),
  );
  return data.invitePlatformUser.token;
}

async function memberInvitation(
  state: { app: TestApp; owner: TestUser; slug: string },
  email: string,
): Promise<string> {
  const data = ok(
    await state.app.gql<{ inviteMember: { token: string } }>(
      INVITE_MEMBER,
      { input: { organizationSlug: state.slug, email, role: 'MEMBER' } },
      state.owner.token,
    ),
  );
  return data.inviteMember.token;
}

describe('SIGNUP_MODE=invite', () => {
  const state = scene({ SIGNUP_MODE: 'invite' });

  it('refuses a sign-up without an invitation with FORBIDDEN naming the mode, the same for a taken address, and writes nothing', async () => {
    for (const email of [address(), state.owner.email]) {
      const refused = await withoutChanges(state.app, () => signUp(state.app, email));
      assert.deepEqual(codes(refused), ['FORBIDDEN']);
      assert.match(refused.errors?.[0].message ?? '', /SIGNUP_MODE=invite/);
    }
  });

  it('with an organization invitation, creates the account and its membership in one go', async () => {
    const email = address();
    const token = await memberInvitation(state, email);
    const { signUp: signed } = ok(await signUp(state.app, email, token));
    const mine = ok(
      await state.app.gql<{ organizations: { nodes: unknown[] } }>(MY_ORGANIZATIONS, {}, signed.accessToken),
    );
    assert.deepEqual(mine.organizations.nodes, [{ slug: state.slug, myRole: 'MEMBER' }]);
    const [invitation] = await state.app.sql<{ accepted_by_id: string }>(
      'SELECT accepted_by_id FROM invitations WHERE email = $1',
      [email],
    );
    assert.equal(invitation.accepted_by_id, signed.user.id);
    // Single use.
    assert.deepEqual(codes(await signUp(state.app, address(), token)), ['FORBIDDEN']);
  });

  it('with a platform invitation, creates an account that joins no organization', async () => {
    const email = address();
    const { signUp: signed } = ok(await signUp(state.app, email, await platformInvitation(state, email)));
    const mine = ok(
      await state.app.gql<{ organizations: { nodes: unknown[] } }>(MY_ORGANIZATIONS, {}, signed.accessToken),
    );
    assert.deepEqual(mine.organizations.nodes, []);
  });

  it('refuses an invitation sent to another address, and an unknown one, and writes nothing', async () => {
    const token = await memberInvitation(state, address());
    for (const attempt of [token, 'not-a-token']) {
      const refused = await withoutChanges(state.app, () => signUp(state.app, address(), attempt));
      assert.deepEqual(codes(refused), ['FORBIDDEN']);
    }
  });
});

describe('SIGNUP_MODE=closed', () => {
  const state = scene({ SIGNUP_MODE: 'closed' });

  it('takes only a platform invitation: an organization invitation is FORBIDDEN for a new account', async () => {
    const email = address();
    const token = await memberInvitation(state, email);
    const refused = await withoutChanges(state.app, () => signUp(state.app, email, token));
    assert.deepEqual(codes(refused), ['FORBIDDEN']);
    assert.match(refused.errors?.[0].message ?? '', /SIGNUP_MODE=closed/);
  });

  it('an organization invitation still works for an existing account', async () => {
    const existing = await seedUser(state);
    const token = await memberInvitation(state, existing.email);
    const accepted = ok(
      await state.app.gql<{ acceptInvitation: { role: string } }>(
        'mutation ($token: String!) { acceptInvitation(token: $token) { role } }',
        { token },
        existing.token,
      ),
    );
    assert.equal(accepted.acceptInvitation.role, 'MEMBER');
  });

  it('a platform invitation lets the invitee sign up, once; it is no organization invitation', async () => {
    const email = address();
    const token = await platformInvitation(state, email);
    const outsider = await seedUser(state);
    const misuse = await withoutChanges(state.app, () =>
      state.app.gql(
        'mutation ($token: String!) { acceptInvitation(token: $token) { role } }',
        { token },
        outsider.token,
      ),
    );
    assert.deepEqual(codes(misuse), ['FORBIDDEN'], 'sent to another address');
    ok(await signUp(state.app, email, token));
    assert.deepEqual(codes(await signUp(state.app, address(), token)), ['FORBIDDEN']);
  });

  it('invitePlatformUser refuses an address that has an account, with CONFLICT', async () => {
    const refused = await withoutChanges(state.app, () =>
      state.app.gql(INVITE_PLATFORM, { email: state.owner.email }, state.admin.token),
    );
    assert.deepEqual(codes(refused), ['CONFLICT']);
  });
});

describe('SIGNUP_MODE=open (the default outside production)', () => {
  const state = scene({});

  it('lets anyone sign up, and still accepts an invitation given with the sign-up', async () => {
    ok(await signUp(state.app, address()));
    const email = address();
    const { signUp: signed } = ok(await signUp(state.app, email, await memberInvitation(state, email)));
    const mine = ok(
      await state.app.gql<{ organizations: { nodes: unknown[] } }>(MY_ORGANIZATIONS, {}, signed.accessToken),
    );
    assert.equal(mine.organizations.nodes.length, 1);
  });

  it('a bad invitation token is BAD_USER_INPUT naming invitationToken, and creates no account', async () => {
    const refused = await withoutChanges(state.app, () => signUp(state.app, address(), 'not-a-token'));
    assert.deepEqual(codes(refused), ['BAD_USER_INPUT']);
    assert.deepEqual(
      (refused.errors?.[0].extensions.fields as { field: string }[]).map((f) => f.field),
      ['invitationToken'],
    );
  });
});
