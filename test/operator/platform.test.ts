import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { given, ok, withoutChanges, type TestUser } from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const PLATFORM_ORGANIZATIONS = `query ($search: String, $first: Int, $after: String) {
  platform {
    organizations(search: $search, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { slug name createdAt plan status suspendedAt suspensionReason memberCount projectCount }
    }
  }
}`;
const PLATFORM_ORGANIZATION = `query ($slug: String!) {
  platform {
    organization(slug: $slug) {
      slug
      members { totalCount nodes { role user { email platformRole } } }
      projects { totalCount nodes { ref status } }
      billing { subscription { plan { code } status } invoices { totalCount } paymentMethods { totalCount } }
    }
  }
}`;
const PLATFORM_USERS = `query ($search: String) {
  platform { users(search: $search) { totalCount nodes { id email displayName createdAt lastLoginAt emailVerified platformRole } } }
}`;
const ORGANIZATION = 'query ($slug: String!) { organization(slug: $slug) { slug } }';
const SUSPEND =
  'mutation ($slug: String!, $reason: String!) { suspendOrganization(slug: $slug, reason: $reason) { status } }';
const MARK_PAID =
  'mutation ($slug: String!, $id: ID!) { markInvoicePaid(organizationSlug: $slug, invoiceId: $id) { status } }';

function codes(response: GraphQLResponse<unknown>): string[] {
  return (response.errors ?? []).map((error) => error.extensions.code);
}

describe('the platform part of the schema', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  before(async () => {
    app = await startTestApp();
    make = given(app);
  });
  after(() => app.close());

  it('is UNAUTHENTICATED for anonymous callers and FORBIDDEN for tenants, owners included', async () => {
    const owner = await make.user();
    await make.organization({ owner });
    assert.deepEqual(codes(await app.gql(PLATFORM_ORGANIZATIONS, {})), ['UNAUTHENTICATED']);
    const refused = await app.gql(PLATFORM_ORGANIZATIONS, {}, owner.token);
    assert.deepEqual(codes(refused), ['FORBIDDEN']);
    assert.equal(refused.data, null);
  });

  it("a platform admin's personal access token reads the platform part but changes nothing there", async () => {
    const admin = await make.platformUser();
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const token = await make.personalAccessToken({ user: admin });
    const read = ok(
      await app.gql<{ platform: { organizations: { totalCount: number } } }>(
        PLATFORM_ORGANIZATIONS,
        { search: organization.slug },
        token.secret,
      ),
    );
    assert.equal(read.platform.organizations.totalCount, 1);
    const refused = await withoutChanges(app, () =>
      app.gql(SUSPEND, { slug: organization.slug, reason: 'Abuse' }, token.secret),
    );
    assert.deepEqual(codes(refused), ['FORBIDDEN']);
    assert.match(refused.errors?.[0].message ?? '', /signed in with a password/);
    ok(await app.gql(SUSPEND, { slug: organization.slug, reason: 'Abuse' }, admin.token));
  });

  it('lists every organization to platform admins and viewers, with plan, status and counts, searchable and paged', async () => {
    const owner = await make.user();
    const marker = `zz${Date.now().toString(36)}`;
    const first = await make.organization({ owner, name: `${marker} One`, slug: `${marker}-one` });
    const member = await make.member({ organization: first, role: 'MEMBER', by: owner });
    await make.project({ organization: first, by: member });
    await make.organization({ owner, name: `${marker} Two`, slug: `${marker}-two` });
    for (const reader of [await make.platformUser(), await make.platformUser({ viewer: true })]) {
      const page = ok(
        await app.gql<{ platform: { organizations: OrganizationPage } }>(
          PLATFORM_ORGANIZATIONS,
          { search: marker, first: 1 },
          reader.token,
        ),
      ).platform.organizations;
      assert.equal(page.totalCount, 2);
      assert.equal(page.pageInfo.hasNextPage, true);
      assert.deepEqual(
        { ...page.nodes[0], createdAt: undefined },
        {
          slug: first.slug,
          name: `${marker} One`,
          createdAt: undefined,
          plan: 'free',
          status: 'ACTIVE',
          suspendedAt: null,
          suspensionReason: null,
          memberCount: 2,
          projectCount: 1,
        },
      );
      const next = ok(
        await app.gql<{ platform: { organizations: OrganizationPage } }>(
          PLATFORM_ORGANIZATIONS,
          { search: marker, first: 1, after: page.pageInfo.endCursor },
          reader.token,
        ),
      ).platform.organizations;
      assert.deepEqual(
        next.nodes.map((node) => node.slug),
        [`${marker}-two`],
      );
    }
  });

  it("shows an organization's members, projects and billing to a platform admin who is no member of it", async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const project = await make.project({ organization, by: owner });
    const admin = await make.platformUser();
    const { platform } = ok(
      await app.gql<{ platform: { organization: Record<string, unknown> } }>(
        PLATFORM_ORGANIZATION,
        { slug: organization.slug },
        admin.token,
      ),
    );
    assert.deepEqual(platform.organization, {
      slug: organization.slug,
      members: { totalCount: 1, nodes: [{ role: 'OWNER', user: { email: owner.email, platformRole: null } }] },
      projects: {
        totalCount: 1,
        nodes: [
          {
            ref: project.ref,
            status: (platform.organization.projects as { nodes: { status: string }[] }).nodes[0].status,
          },
        ],
      },
      billing: {
        subscription: { plan: { code: 'free' }, status: 'ACTIVE' },
        invoices: { totalCount: 0 },
        paymentMethods: { totalCount: 0 },
      },
    });
    const missing = await app.gql(PLATFORM_ORGANIZATION, { slug: 'no-such-organization' }, admin.token);
    assert.deepEqual(codes(missing), ['NOT_FOUND']);
  });

  it('being a platform admin gives no membership: a foreign organization is still NOT_FOUND in the tenant API', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    for (const operator of [await make.platformUser(), await make.platformUser({ viewer: true })]) {
      assert.deepEqual(codes(await app.gql(ORGANIZATION, { slug: organization.slug }, operator.token)), ['NOT_FOUND']);
      const mine = ok(
        await app.gql<{ organizations: { totalCount: number } }>(
          '{ organizations { totalCount } }',
          {},
          operator.token,
        ),
      );
      assert.equal(mine.organizations.totalCount, 0);
    }
  });

  it('lists accounts with their last log-in, e-mail verification and platform role', async () => {
    const user = await make.user({ displayName: 'Searchable Person' });
    const logIn = ok(
      await app.gql<{ logIn: { user: { id: string } } }>(
        'mutation ($input: LogInInput!) { logIn(input: $input) { user { id } } }',
        { input: { email: user.email, password: user.password } },
      ),
    );
    assert.equal(logIn.logIn.user.id, user.id);
    const viewer = await make.platformUser({ viewer: true });
    const found = ok(
      await app.gql<{ platform: { users: { totalCount: number; nodes: Record<string, unknown>[] } } }>(
        PLATFORM_USERS,
        { search: user.email },
        viewer.token,
      ),
    ).platform.users;
    assert.equal(found.totalCount, 1);
    const [node] = found.nodes;
    assert.equal(node.email, user.email);
    assert.equal(node.displayName, 'Searchable Person');
    assert.equal(node.emailVerified, false);
    assert.equal(node.platformRole, null);
    assert.ok(typeof node.lastLoginAt === 'string', 'logIn records the last log-in');
    const self = ok(
      await app.gql<{ platform: { users: { nodes: { platformRole: string }[] } } }>(
        PLATFORM_USERS,
        { search: viewer.email },
        viewer.token,
      ),
    ).platform.users.nodes;
    assert.deepEqual(self, [{ ...self[0], platformRole: 'PLATFORM_VIEWER' }]);
  });

  it('a search matches wildcards literally', async () => {
    const admin = await make.platformUser();
    const everyone = ok(
      await app.gql<{ platform: { users: { totalCount: number } } }>(PLATFORM_USERS, { search: '%' }, admin.token),
    );
    assert.equal(everyone.platform.users.totalCount, 0);
  });

  it('a platform viewer reads but changes nothing: every platform mutation is FORBIDDEN to them', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const viewer = await make.platformUser({ viewer: true });
    const attempts: [string, Record<string, unknown>][] = [
      [SUSPEND, { slug: organization.slug, reason: 'abuse' }],
      ['mutation ($slug: String!) { unsuspendOrganization(slug: $slug) { status } }', { slug: organization.slug }],
      [
        'mutation ($input: SetOrganizationPlanInput!) { setOrganizationPlan(input: $input) { plan } }',
        { input: { slug: organization.slug, plan: 'team', until: new Date(Date.now() + 86_400_000).toISOString() } },
      ],
      ['mutation ($email: String!) { invitePlatformUser(email: $email) { token } }', { email: 'someone@example.com' }],
      ['mutation ($id: ID!) { deleteUser(id: $id) }', { id: owner.id }],
      [MARK_PAID, { slug: organization.slug, id: '00000000-0000-4000-8000-000000000000' }],
    ];
    for (const [document, variables] of attempts) {
      const response = await withoutChanges(app, () => app.gql(document, variables, viewer.token));
      assert.deepEqual(codes(response), ['FORBIDDEN'], document);
      // A tenant, the organization's owner included, is refused the same way.
      assert.deepEqual(codes(await withoutChanges(app, () => app.gql(document, variables, owner.token))), [
        'FORBIDDEN',
      ]);
    }
  });

  it("an owner can no longer settle its own debt: markInvoicePaid and voidInvoice are the operator's", async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    await make.paymentMethod({ organization, by: owner, token: 'tok_chargeDeclined' });
    await make.changePlan({ organization, by: owner, plan: 'pro' });
    const period = await make.closePeriod({ organization });
    assert.equal(period.invoice?.status, 'open');
    const id = period.invoice.id;
    for (const field of ['markInvoicePaid', 'voidInvoice']) {
      const document = `mutation ($slug: String!, $id: ID!) { ${field}(organizationSlug: $slug, invoiceId: $id) { status } }`;
      assert.deepEqual(
        codes(await withoutChanges(app, () => app.gql(document, { slug: organization.slug, id }, owner.token))),
        ['FORBIDDEN'],
      );
    }
    const admin = await make.platformUser();
    assert.deepEqual(ok(await app.gql(MARK_PAID, { slug: organization.slug, id }, admin.token)), {
      markInvoicePaid: { status: 'PAID' },
    });
  });

  it('a revoked platform role stops working on the very next request', async () => {
    const admin = await make.platformUser();
    ok(await app.gql(PLATFORM_USERS, {}, admin.token));
    await app.sql('UPDATE users SET platform_role = NULL WHERE id = $1', [admin.id]);
    assert.deepEqual(codes(await app.gql(PLATFORM_USERS, {}, admin.token)), ['FORBIDDEN']);
  });
});

describe('deleting an account', () => {
  let app: TestApp;
  let make: ReturnType<typeof given>;
  let admin: TestUser;
  before(async () => {
    app = await startTestApp();
    make = given(app);
    admin = await make.platformUser();
  });
  after(() => app.close());
  const DELETE = 'mutation ($id: ID!) { deleteUser(id: $id) }';

  it('is refused with CONFLICT while the user is the last owner of an organization, and changes nothing', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const refused = await withoutChanges(app, () => app.gql(DELETE, { id: owner.id }, admin.token));
    assert.deepEqual(codes(refused), ['CONFLICT']);
    assert.match(refused.errors?.[0].message ?? '', new RegExp(organization.slug));
  });

  it('removes the account with its memberships once another owner remains; its token then answers me with UNAUTHENTICATED', async () => {
    const owner = await make.user();
    const organization = await make.organization({ owner });
    const second = await make.member({ organization, role: 'OWNER', by: owner });
    assert.deepEqual(ok(await app.gql(DELETE, { id: second.id }, admin.token)), { deleteUser: true });
    assert.deepEqual(await app.sql('SELECT id FROM users WHERE id = $1', [second.id]), []);
    assert.deepEqual(await app.sql('SELECT id FROM user_roles WHERE user_id = $1', [second.id]), []);
    assert.deepEqual(codes(await app.gql('{ me { id } }', {}, second.token)), ['UNAUTHENTICATED']);
    assert.deepEqual(codes(await app.gql(DELETE, { id: second.id }, admin.token)), ['NOT_FOUND']);
  });

  it("refuses an admin's own account, and an id that is not one", async () => {
    assert.deepEqual(codes(await withoutChanges(app, () => app.gql(DELETE, { id: admin.id }, admin.token))), [
      'CONFLICT',
    ]);
    const bad = await app.gql(DELETE, { id: 'not-a-uuid' }, admin.token);
    assert.deepEqual(codes(bad), ['BAD_USER_INPUT']);
  });
});

interface OrganizationPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string };
  nodes: { slug: string }[];
}
