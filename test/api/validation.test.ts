import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/auth/tokens';
import {
  given,
  ok,
  untilActive,
  untilStatus,
  withoutChanges,
  type TestOrganization,
  type TestUser,
} from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

type ResponseError = NonNullable<GraphQLResponse['errors']>[number];

/** What an error must never show a client: SQL, constraint names, stack frames. */
const INTERNALS = /select|insert|update|constraint|at .*\.js/i;

/** Asserts that the response is one typed error with `code` and no internals, and returns it. */
function rejected(response: GraphQLResponse<unknown>, code: string): ResponseError {
  assert.equal(response.errors?.length, 1, JSON.stringify(response.errors));
  const [error] = response.errors;
  assert.equal(error.extensions.code, code, JSON.stringify(error));
  assert.doesNotMatch(error.message, INTERNALS);
  assert.equal(error.extensions.stacktrace, undefined);
  assert.doesNotMatch(JSON.stringify(error.extensions), /at .*\.js/);
  return error;
}

/** A BAD_USER_INPUT error that names `field` among the offending fields. */
function badInput(response: GraphQLResponse<unknown>, field: string): void {
  const error = rejected(response, 'BAD_USER_INPUT');
  const fields = (error.extensions.fields as { field: string; messages: string[] }[] | undefined) ?? [];
  assert.ok(
    fields.some((problem) => problem.field === field && problem.messages.length > 0),
    `expected field "${field}" in ${JSON.stringify(error)}`,
  );
}

const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
const CREATE_ORGANIZATION = 'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }';
const UPDATE_ORGANIZATION =
  'mutation ($slug: String!, $input: UpdateOrganizationInput!) { updateOrganization(slug: $slug, input: $input) { id } }';
const CREATE_PROJECT = 'mutation ($input: CreateProjectInput!) { createProject(input: $input) { id } }';
const UPDATE_PROJECT =
  'mutation ($ref: String!, $input: UpdateProjectInput!) { updateProject(ref: $ref, input: $input) { id } }';
const INVITE = 'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }';
const UPDATE_ROLE = 'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }';
const REMOVE_MEMBER =
  'mutation ($slug: String!, $userId: ID!) { removeMember(organizationSlug: $slug, userId: $userId) }';
const GRANT =
  'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }';
const REVOKE = 'mutation ($ref: String!, $userId: ID!) { revokeProjectPermission(projectRef: $ref, userId: $userId) }';
const ORGANIZATIONS =
  'query ($first: Int, $after: String) { organizations(first: $first, after: $after) { totalCount } }';
const PROJECTS_PAGE = `query ($slug: String!, $first: Int, $after: String) {
  organization(slug: $slug) { projects(first: $first, after: $after) { totalCount } }
}`;

const NOT_UUIDS = ['not-a-uuid', '42', "' OR '1'='1", '00000000-0000-0000-0000-00000000000g'];

function cursorOf(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('input validation', () => {
  const authTokenSecret = randomBytes(32);
  let app: TestApp;
  let make: ReturnType<typeof given>;
  let owner: TestUser;
  let organization: TestOrganization;
  before(async () => {
    app = await startTestApp({ AUTH_TOKEN_SECRET: authTokenSecret.toString('base64') });
    make = given(app);
    owner = await make.user();
    organization = await make.organization({ owner });
    // Its tests each make a project of their own: more than the free plan's two.
    await make.paymentMethod({ organization, by: owner });
    await make.changePlan({ organization, by: owner, plan: 'team' });
  });
  after(() => app.close());

  /** A project of `organization` that the provisioner has finished with, so that no row moves under a snapshot. */
  async function activeProject() {
    const project = await make.project({ organization, by: owner });
    await untilActive(app, project);
    return project;
  }

  it('sign-up refuses a password shorter than 10 characters and names the field', async () => {
    const response = await withoutChanges(app, () =>
      app.gql(SIGN_UP, { input: { email: 'short-password@example.com', password: 'short', displayName: 'Short' } }),
    );
    badInput(response, 'password');
  });

  it('sign-up refuses an e-mail address that is not one', async () => {
    for (const email of ['not-an-email', 'two@@example.com', 'no-domain@', '   ']) {
      const response = await withoutChanges(app, () =>
        app.gql(SIGN_UP, { input: { email, password: 'a long enough password', displayName: 'Someone' } }),
      );
      badInput(response, 'email');
    }
  });

  it('sign-up refuses a blank display name', async () => {
    for (const displayName of ['', '   ']) {
      const response = await withoutChanges(app, () =>
        app.gql(SIGN_UP, {
          input: { email: 'blank-name@example.com', password: 'a long enough password', displayName },
        }),
      );
      badInput(response, 'displayName');
    }
  });

  it('an organization slug is 2-48 lowercase letters, digits and single inner hyphens', async () => {
    for (const slug of ['Bad Slug', '-x', 'x-', 'a', 'a--b', 'UPPER', 'x'.repeat(49)]) {
      const response = await withoutChanges(app, () =>
        app.gql(CREATE_ORGANIZATION, { input: { name: 'Slugged', slug } }, owner.token),
      );
      badInput(response, 'slug');
      badInput(
        await withoutChanges(app, () =>
          app.gql(UPDATE_ORGANIZATION, { slug: organization.slug, input: { slug } }, owner.token),
        ),
        'slug',
      );
    }
  });

  it('an organization or project name must not be blank', async () => {
    const project = await activeProject();
    for (const name of ['', '   ']) {
      badInput(await withoutChanges(app, () => app.gql(CREATE_ORGANIZATION, { input: { name } }, owner.token)), 'name');
      badInput(
        await withoutChanges(app, () =>
          app.gql(UPDATE_ORGANIZATION, { slug: organization.slug, input: { name } }, owner.token),
        ),
        'name',
      );
      badInput(
        await withoutChanges(app, () =>
          app.gql(
            CREATE_PROJECT,
            { input: { organizationSlug: organization.slug, name, region: 'eu-west-1' } },
            owner.token,
          ),
        ),
        'name',
      );
      badInput(
        await withoutChanges(app, () => app.gql(UPDATE_PROJECT, { ref: project.ref, input: { name } }, owner.token)),
        'name',
      );
    }
  });

  it('a project is created only in a known region', async () => {
    for (const region of ['mars-north-1', 'EU-WEST-1', '']) {
      const response = await withoutChanges(app, () =>
        app.gql(CREATE_PROJECT, { input: { organizationSlug: organization.slug, name: 'Lost', region } }, owner.token),
      );
      badInput(response, 'region');
    }
  });

  it('an invitation needs a valid e-mail address', async () => {
    const response = await withoutChanges(app, () =>
      app.gql(
        INVITE,
        { input: { organizationSlug: organization.slug, email: 'nobody at example', role: 'MEMBER' } },
        owner.token,
      ),
    );
    badInput(response, 'email');
  });

  it('member and grant operations refuse a userId that is not a uuid', async () => {
    const project = await activeProject();
    for (const userId of NOT_UUIDS) {
      const attempts = [
        () =>
          app.gql(UPDATE_ROLE, { input: { organizationSlug: organization.slug, userId, role: 'ADMIN' } }, owner.token),
        () => app.gql(GRANT, { input: { projectRef: project.ref, userId, accessLevel: 'READ' } }, owner.token),
        () => app.gql(REMOVE_MEMBER, { slug: organization.slug, userId }, owner.token),
        () => app.gql(REVOKE, { ref: project.ref, userId }, owner.token),
      ];
      for (const attempt of attempts) badInput(await withoutChanges(app, attempt), 'userId');
    }
  });

  it('a viewer can be granted at most READ access to a project', async () => {
    const project = await activeProject();
    const viewer = await make.member({ organization, role: 'VIEWER', by: owner });
    for (const accessLevel of ['WRITE', 'ADMIN']) {
      const response = await withoutChanges(app, () =>
        app.gql(GRANT, { input: { projectRef: project.ref, userId: viewer.id, accessLevel } }, owner.token),
      );
      badInput(response, 'accessLevel');
    }
  });

  it("only members of the project's organization can be granted access to it", async () => {
    const project = await activeProject();
    const outsider = await make.user();
    for (const userId of [outsider.id, '00000000-0000-4000-8000-000000000000']) {
      const response = await withoutChanges(app, () =>
        app.gql(GRANT, { input: { projectRef: project.ref, userId, accessLevel: 'READ' } }, owner.token),
      );
      badInput(response, 'userId');
    }
  });

  it('a page size cannot be negative', async () => {
    badInput(await app.gql(ORGANIZATIONS, { first: -1 }, owner.token), 'first');
    badInput(await app.gql(PROJECTS_PAGE, { slug: organization.slug, first: -1 }, owner.token), 'first');
  });

  it('a page cursor must be one the API returned', async () => {
    const garbage = [
      'garbage',
      '%%%',
      cursorOf('not a list'),
      cursorOf(null),
      cursorOf(['not a date', '00000000-0000-4000-8000-000000000000']),
      cursorOf(['2024-01-01T00:00:00.000Z', 'f'.repeat(36)]),
      cursorOf(['2024-01-01T00:00:00.000Z', '-'.repeat(36)]),
      cursorOf(['2024-01-01T00:00:00.000Z', ['00000000-0000-4000-8000-000000000000']]),
      cursorOf(['-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']),
    ];
    for (const cursor of garbage) {
      badInput(await app.gql(ORGANIZATIONS, { after: cursor }, owner.token), 'after');
      badInput(await app.gql(PROJECTS_PAGE, { slug: organization.slug, after: cursor }, owner.token), 'after');
    }
    const first = ok(
      await app.gql<{ organizations: { pageInfo: { endCursor: string } } }>(
        'query { organizations(first: 1) { pageInfo { endCursor } } }',
        {},
        owner.token,
      ),
    );
    ok(await app.gql(ORGANIZATIONS, { after: first.organizations.pageInfo.endCursor }, owner.token));
  });

  it('an invalid or expired access token is UNAUTHENTICATED, never anonymous', async () => {
    const user = await make.user();
    const now = Math.floor(Date.now() / 1000);
    const signed = (secret: Uint8Array, issuedAt: number, expiresAt: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .sign(secret);
    const tokens = {
      garbage: 'not-a-token',
      expired: await signed(authTokenSecret, now - 7200, now - 3600),
      'signed with another key': await signed(randomBytes(32), now, now + 3600),
      unsigned: new UnsecuredJWT({})
        .setSubject(user.id)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setExpirationTime(now + 3600)
        .encode(),
      tampered: `${user.token.slice(0, -4)}AAAA`,
      // Signed as access tokens were before sessions: it names none.
      'naming no session': await signed(authTokenSecret, now, now + 3600),
    };
    for (const [kind, token] of Object.entries(tokens)) {
      const me = rejected(await app.gql('{ me { id } }', {}, token), 'UNAUTHENTICATED');
      assert.match(me.message, /invalid or has expired/, kind);
      const created = await withoutChanges(app, () =>
        app.gql(CREATE_ORGANIZATION, { input: { name: 'Anonymous' } }, token),
      );
      rejected(created, 'UNAUTHENTICATED');
    }
    ok(await app.gql('{ me { id } }', {}, user.token));
  });

  it('an operation that needs a signed-in caller is UNAUTHENTICATED without a token', async () => {
    const project = await activeProject();
    const attempts: [string, Record<string, unknown>][] = [
      ['{ me { id } }', {}],
      [ORGANIZATIONS, {}],
      ['query ($slug: String!) { organization(slug: $slug) { id } }', { slug: organization.slug }],
      ['query ($ref: String!) { project(ref: $ref) { id } }', { ref: project.ref }],
      [CREATE_ORGANIZATION, { input: { name: 'Anonymous' } }],
      [CREATE_PROJECT, { input: { organizationSlug: organization.slug, name: 'Anonymous', region: 'eu-west-1' } }],
      [INVITE, { input: { organizationSlug: organization.slug, email: 'x@example.com', role: 'MEMBER' } }],
      ['mutation ($token: String!) { acceptInvitation(token: $token) { role } }', { token: 'whatever' }],
      ['mutation ($slug: String!) { leaveOrganization(slug: $slug) }', { slug: organization.slug }],
      ['mutation ($slug: String!) { deleteOrganization(slug: $slug) }', { slug: organization.slug }],
      ['mutation ($ref: String!) { pauseProject(ref: $ref) { status } }', { ref: project.ref }],
      [GRANT, { input: { projectRef: project.ref, userId: owner.id, accessLevel: 'READ' } }],
    ];
    for (const [document, variables] of attempts) {
      rejected(await withoutChanges(app, () => app.gql(document, variables)), 'UNAUTHENTICATED');
    }
  });

  it('pausing a paused project is a CONFLICT on its status', async () => {
    const project = await activeProject();
    const PAUSE = 'mutation ($ref: String!) { pauseProject(ref: $ref) { status } }';
    assert.deepEqual(ok(await app.gql(PAUSE, { ref: project.ref }, owner.token)), {
      pauseProject: { status: 'PAUSING' },
    });
    await untilStatus(app, project, 'PAUSED');
    const again = rejected(
      await withoutChanges(app, () => app.gql(PAUSE, { ref: project.ref }, owner.token)),
      'CONFLICT',
    );
    assert.equal(again.extensions.field, 'status');
  });

  it('restoring a project that is not paused is a CONFLICT on its status', async () => {
    const project = await activeProject();
    const response = await withoutChanges(app, () =>
      app.gql('mutation ($ref: String!) { restoreProject(ref: $ref) { status } }', { ref: project.ref }, owner.token),
    );
    assert.equal(rejected(response, 'CONFLICT').extensions.field, 'status');
  });
});
