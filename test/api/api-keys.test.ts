import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  eventually,
  given,
  ok,
  snapshot,
  type TestKey,
  type TestOrganization,
  type TestProject,
  type TestServiceAccount,
  type TestUser,
} from '../support/given';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/server';

const ORGANIZATION = 'query ($slug: String!) { organization(slug: $slug) { slug myRole myPermissions } }';
const PROJECT = 'query ($ref: String!) { project(ref: $ref) { ref myAccess } }';
const VIEWER =
  '{ viewer { kind authentication user { id } serviceAccount { id name role } organization { slug myRole } } }';

function codeOf(response: GraphQLResponse): string | undefined {
  return response.errors?.[0].extensions.code;
}

function statementsOf(response: GraphQLResponse): number {
  return Number(response.headers.get('x-sql-statements'));
}

describe('API keys', () => {
  let app: TestApp;
  let owner: TestUser;
  let organization: TestOrganization;
  let elsewhere: TestOrganization;
  let project: TestProject;

  before(async () => {
    app = await startTestApp();
    const make = given(app);
    owner = await make.user();
    organization = await make.organization({ owner });
    elsewhere = await make.organization({ owner });
    project = await make.project({ organization, by: owner });
    await make.project({ organization: elsewhere, by: owner });
  });
  after(() => app.close());

  /** Uses the key once and waits for its use to be recorded, so that later snapshots hold still. */
  async function used(key: TestKey): Promise<void> {
    ok(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
    await eventually(async () => {
      const [row] = await app.sql<{ last_used_at: Date | null }>('SELECT last_used_at FROM access_keys WHERE id = $1', [
        key.id,
      ]);
      assert.ok(row.last_used_at);
    });
  }

  async function keyOf(role: 'ADMIN' | 'MEMBER' | 'VIEWER', expiresAt?: Date) {
    const make = given(app);
    const account = await make.serviceAccount({ organization, role, by: owner });
    const key = await make.apiKey({ serviceAccount: account, by: owner, expiresAt });
    return { account, key };
  }

  describe('the secret', () => {
    it('is shown once, starts with pak_, and only its SHA-256 is stored, found by a lookup id', async () => {
      const { account, key } = await keyOf('MEMBER');
      assert.match(key.secret, /^pak_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      const [row] = await app.sql<Record<string, unknown>>('SELECT * FROM access_keys WHERE id = $1', [key.id]);
      assert.equal(row.secret_hash, createHash('sha256').update(key.secret).digest('hex'));
      assert.ok(!JSON.stringify(await snapshot(app)).includes(key.secret.slice(21)), 'the secret is stored nowhere');
      const listed = ok(
        await app.gql<{
          organization: { serviceAccounts: { nodes: { id: string; apiKeys: { prefix: string }[] }[] } };
        }>(
          'query ($slug: String!) { organization(slug: $slug) { serviceAccounts { nodes { id apiKeys { id name prefix createdAt expiresAt lastUsedAt revokedAt } } } } }',
          { slug: organization.slug },
          owner.token,
        ),
      );
      const keys = listed.organization.serviceAccounts.nodes.find((node) => node.id === account.id)?.apiKeys ?? [];
      assert.equal(keys.length, 1);
      assert.equal(keys[0].prefix, key.secret.slice(0, 20));
      assert.ok(!JSON.stringify(keys).includes(key.secret.slice(21)), 'a list never shows the secret');
    });

    it('an expiry in the past is BAD_USER_INPUT on expiresAt, and no key is made', async () => {
      const account = await given(app).serviceAccount({ organization, role: 'MEMBER', by: owner });
      const response = await app.gql(
        'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
        { input: { serviceAccountId: account.id, name: 'late', expiresAt: new Date(Date.now() - 1000).toISOString() } },
        owner.token,
      );
      assert.equal(codeOf(response), 'BAD_USER_INPUT');
      assert.deepEqual(
        (response.errors?.[0].extensions.fields as { field: string }[]).map((p) => p.field),
        ['expiresAt'],
      );
      assert.deepEqual(await app.sql('SELECT id FROM access_keys WHERE service_account_id = $1', [account.id]), []);
    });
  });

  describe('a key acts as its service account', () => {
    it('in its organization, with its role; viewer says who it is, and me is FORBIDDEN', async () => {
      const { account, key } = await keyOf('VIEWER');
      const data = ok(await app.gql<{ organization: unknown }>(ORGANIZATION, { slug: organization.slug }, key.secret));
      assert.deepEqual(data.organization, {
        slug: organization.slug,
        myRole: 'VIEWER',
        myPermissions: ['organization:read'],
      });
      const viewer = ok(await app.gql<{ viewer: unknown }>(VIEWER, {}, key.secret));
      assert.deepEqual(viewer.viewer, {
        kind: 'SERVICE_ACCOUNT',
        authentication: 'API_KEY',
        user: null,
        serviceAccount: { id: account.id, name: account.name, role: 'VIEWER' },
        organization: { slug: organization.slug, myRole: 'VIEWER' },
      });
      assert.equal(codeOf(await app.gql('{ me { id } }', {}, key.secret)), 'FORBIDDEN');
    });

    it('every other organization is NOT_FOUND, and its organizations are only its own', async () => {
      const { key } = await keyOf('ADMIN');
      assert.equal(codeOf(await app.gql(ORGANIZATION, { slug: elsewhere.slug }, key.secret)), 'NOT_FOUND');
      const data = ok(
        await app.gql<{ organizations: { totalCount: number; nodes: { slug: string }[] } }>(
          '{ organizations { totalCount nodes { slug } } }',
          {},
          key.secret,
        ),
      );
      assert.deepEqual(data.organizations, { totalCount: 1, nodes: [{ slug: organization.slug }] });
    });

    it('with its role and grants as they are at the moment of each request', async () => {
      const { account, key } = await keyOf('MEMBER');
      assert.equal(codeOf(await app.gql(PROJECT, { ref: project.ref }, key.secret)), 'NOT_FOUND');
      await given(app).grantServiceAccount({ project, serviceAccount: account, level: 'WRITE', by: owner });
      const granted = ok(await app.gql<{ project: { myAccess: string } }>(PROJECT, { ref: project.ref }, key.secret));
      assert.equal(granted.project.myAccess, 'WRITE');
      ok(
        await app.gql(
          'mutation ($id: ID!) { updateServiceAccount(id: $id, input: { role: ADMIN }) { role } }',
          { id: account.id },
          owner.token,
        ),
      );
      const raised = ok(await app.gql<{ project: { myAccess: string } }>(PROJECT, { ref: project.ref }, key.secret));
      assert.equal(raised.project.myAccess, 'ADMIN');
    });

    it('keeps its rights on what it created: a member service account administers the project it made', async () => {
      const { account, key } = await keyOf('MEMBER');
      const created = ok(
        await app.gql<{ createProject: { ref: string } }>(
          'mutation ($input: CreateProjectInput!) { createProject(input: $input) { ref } }',
          { input: { organizationSlug: organization.slug, name: 'made by CI', region: 'eu-west-1' } },
          key.secret,
        ),
      );
      const data = ok(
        await app.gql<{ project: { myAccess: string; credentials: { serviceRoleKey: string } } }>(
          'query ($ref: String!) { project(ref: $ref) { myAccess credentials { serviceRoleKey } } }',
          { ref: created.createProject.ref },
          key.secret,
        ),
      );
      assert.equal(data.project.myAccess, 'ADMIN');
      assert.ok(data.project.credentials.serviceRoleKey.length > 0);
      const [grant] = await app.sql<{ user_id: string | null; service_account_id: string }>(
        'SELECT p.user_id, p.service_account_id FROM permissions p JOIN projects j ON j.id = p.project_id WHERE j.ref = $1',
        [created.createProject.ref],
      );
      assert.deepEqual(grant, { user_id: null, service_account_id: account.id });
    });

    it('cannot do what only a person may: create an organization, accept an invitation, leave', async () => {
      const { key } = await keyOf('ADMIN');
      await used(key);
      for (const [document, variables] of [
        ['mutation { createOrganization(input: { name: "Mine" }) { slug } }', {}],
        ['mutation ($token: String!) { acceptInvitation(token: $token) { role } }', { token: 'x'.repeat(43) }],
        ['mutation ($slug: String!) { leaveOrganization(slug: $slug) }', { slug: organization.slug }],
        ['{ deletedOrganizations { totalCount } }', {}],
      ] as const) {
        const before = await snapshot(app);
        assert.equal(codeOf(await app.gql(document, variables, key.secret)), 'FORBIDDEN', document);
        assert.deepEqual(await snapshot(app), before);
      }
    });
  });

  describe('a key cannot make keys', () => {
    let admin: { account: TestServiceAccount; key: TestKey };
    let target: TestServiceAccount;
    let targetKey: TestKey;
    let colleague: TestUser;

    before(async () => {
      const make = given(app);
      admin = await keyOf('ADMIN');
      target = await make.serviceAccount({ organization, role: 'VIEWER', by: owner });
      targetKey = await make.apiKey({ serviceAccount: target, by: owner });
      colleague = await make.member({ organization, role: 'MEMBER', by: owner });
      await used(admin.key);
    });

    const attempts: [string, string, () => Record<string, unknown>][] = [
      [
        'create a service account',
        'mutation ($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { id } }',
        () => ({ input: { organizationSlug: organization.slug, name: 'backdoor', role: 'ADMIN' } }),
      ],
      [
        'make a key for itself',
        'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
        () => ({ input: { serviceAccountId: admin.account.id, name: 'spare' } }),
      ],
      [
        'make a key for another service account',
        'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
        () => ({ input: { serviceAccountId: target.id, name: 'spare' } }),
      ],
      ['revoke a key', 'mutation ($id: ID!) { revokeApiKey(id: $id) }', () => ({ id: targetKey.id })],
      [
        'change a service account',
        'mutation ($id: ID!) { updateServiceAccount(id: $id, input: { role: ADMIN }) { role } }',
        () => ({ id: target.id }),
      ],
      ['delete a service account', 'mutation ($id: ID!) { deleteServiceAccount(id: $id) }', () => ({ id: target.id })],
      [
        'invite a member',
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        () => ({ input: { organizationSlug: organization.slug, email: 'accomplice@example.com', role: 'ADMIN' } }),
      ],
      [
        'change a member',
        'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
        () => ({ input: { organizationSlug: organization.slug, userId: colleague.id, role: 'ADMIN' } }),
      ],
      [
        'remove a member',
        'mutation ($slug: String!, $id: ID!) { removeMember(organizationSlug: $slug, userId: $id) }',
        () => ({ slug: organization.slug, id: colleague.id }),
      ],
      [
        'grant project access',
        'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }',
        () => ({ input: { projectRef: project.ref, userId: colleague.id, accessLevel: 'ADMIN' } }),
      ],
      [
        'make a personal access token',
        'mutation { createPersonalAccessToken(input: { name: "spare" }) { secret } }',
        () => ({}),
      ],
    ];

    for (const [does, document, variables] of attempts) {
      it(`an admin service account's key cannot ${does} (FORBIDDEN), and nothing changes`, async () => {
        const before = await snapshot(app);
        const response = await app.gql(document, variables(), admin.key.secret);
        assert.equal(codeOf(response), 'FORBIDDEN', JSON.stringify(response.errors));
        assert.deepEqual(await snapshot(app), before);
      });
    }

    it('and its permissions say so', async () => {
      const data = ok(
        await app.gql<{ organization: { myPermissions: string[] } }>(
          ORGANIZATION,
          { slug: organization.slug },
          admin.key.secret,
        ),
      );
      assert.ok(!data.organization.myPermissions.includes('members:manage'));
      assert.ok(data.organization.myPermissions.includes('organization:update'));
    });
  });

  describe('expired, revoked or deleted', () => {
    it('a revoked key is UNAUTHENTICATED on the very next request, and revoking again changes nothing', async () => {
      const { key } = await keyOf('MEMBER');
      ok(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
      ok(await app.gql('mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: key.id }, owner.token));
      assert.equal(codeOf(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret)), 'UNAUTHENTICATED');
      const [row] = await app.sql<{ revoked_at: Date }>('SELECT revoked_at FROM access_keys WHERE id = $1', [key.id]);
      ok(await app.gql('mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: key.id }, owner.token));
      const [again] = await app.sql<{ revoked_at: Date }>('SELECT revoked_at FROM access_keys WHERE id = $1', [key.id]);
      assert.deepEqual(again.revoked_at, row.revoked_at);
    });

    it('an expired key is UNAUTHENTICATED from its expiry on, though it was known', async () => {
      const { key } = await keyOf('MEMBER', new Date(Date.now() + 1500));
      ok(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
      await sleep(1600);
      assert.equal(codeOf(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret)), 'UNAUTHENTICATED');
    });

    it("a deleted service account's keys are UNAUTHENTICATED on the next request", async () => {
      const { account, key } = await keyOf('ADMIN');
      ok(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
      ok(await app.gql('mutation ($id: ID!) { deleteServiceAccount(id: $id) }', { id: account.id }, owner.token));
      assert.equal(codeOf(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret)), 'UNAUTHENTICATED');
    });

    it('a key with a wrong secret, or a made-up one, is UNAUTHENTICATED', async () => {
      const { key } = await keyOf('MEMBER');
      const wrong = `${key.secret.slice(0, 21)}${'A'.repeat(43)}`;
      for (const secret of [wrong, 'pak_0123456789abcdef_' + 'B'.repeat(43), 'pak_short']) {
        assert.equal(codeOf(await app.gql(ORGANIZATION, { slug: organization.slug }, secret)), 'UNAUTHENTICATED');
      }
    });
  });

  describe('the hot path', () => {
    it("a user's token costs no statement more than before; a known key none either", async () => {
      const dashboard = '{ organizations { nodes { slug projects { nodes { ref } } } } }';
      assert.equal(statementsOf(await app.gql(dashboard, {}, owner.token)), 1);
      const { key } = await keyOf('ADMIN');
      const first = await app.gql(dashboard, {}, key.secret);
      ok(first);
      assert.equal(statementsOf(first), 2, 'the first request reads the key');
      const next = await app.gql(dashboard, {}, key.secret);
      assert.equal(statementsOf(next), 1, 'later ones remember it');
    });

    it('lastUsedAt is written outside the request, at most once a minute', async () => {
      const { key } = await keyOf('MEMBER');
      ok(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
      let firstUse: Date | null = null;
      await eventually(async () => {
        const [row] = await app.sql<{ last_used_at: Date | null }>(
          'SELECT last_used_at FROM access_keys WHERE id = $1',
          [key.id],
        );
        assert.ok(row.last_used_at);
        firstUse = row.last_used_at;
      });
      ok(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
      await sleep(100);
      const [row] = await app.sql<{ last_used_at: Date }>('SELECT last_used_at FROM access_keys WHERE id = $1', [
        key.id,
      ]);
      assert.deepEqual(row.last_used_at, firstUse);
    });
  });

  describe('on every replica', () => {
    let replica: TestApp;
    before(async () => {
      replica = await startTestApp({}, {}, app);
    });
    after(() => replica.close());

    it('a key revoked through one server is refused by the other on its next request', async () => {
      const { key } = await keyOf('MEMBER');
      ok(await replica.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
      // Known to the replica: it reads nothing for it now.
      assert.equal(statementsOf(await replica.gql(ORGANIZATION, { slug: organization.slug }, key.secret)), 1);
      ok(await app.gql('mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: key.id }, owner.token));
      await eventually(
        async () =>
          assert.equal(
            codeOf(await replica.gql(ORGANIZATION, { slug: organization.slug }, key.secret)),
            'UNAUTHENTICATED',
          ),
        1000,
      );
    });

    it('a service account deleted through one server: its keys are refused by the other', async () => {
      const { account, key } = await keyOf('VIEWER');
      ok(await replica.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
      ok(await app.gql('mutation ($id: ID!) { deleteServiceAccount(id: $id) }', { id: account.id }, owner.token));
      await eventually(
        async () =>
          assert.equal(
            codeOf(await replica.gql(ORGANIZATION, { slug: organization.slug }, key.secret)),
            'UNAUTHENTICATED',
          ),
        1000,
      );
    });
  });
});

describe('failed key authentications', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ AUTH_RATE_LIMIT_PER_ADDRESS: '3' });
  });
  after(() => app.close());

  it('are throttled per client address like failed log-ins, and a throttled attempt reads nothing', async () => {
    const owner = await given(app).user();
    const organization = await given(app).organization({ owner });
    const account = await given(app).serviceAccount({ organization, role: 'VIEWER', by: owner });
    const key = await given(app).apiKey({ serviceAccount: account, by: owner });
    ok(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
    const guess = () => `pak_${'0'.repeat(16)}_${'C'.repeat(43)}`;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      assert.equal(codeOf(await app.gql(ORGANIZATION, { slug: organization.slug }, guess())), 'UNAUTHENTICATED');
    }
    const throttled = await app.gql(ORGANIZATION, { slug: organization.slug }, guess());
    assert.equal(codeOf(throttled), 'RATE_LIMITED');
    assert.equal(statementsOf(throttled), 0);
    // Successful authentications are not counted, and a user's session is not throttled.
    ok(await app.gql('{ me { id } }', {}, owner.token));
  });

  it('the count is shared: another process on the database refuses the address after at most one failure of its own', async () => {
    const guess = () => `pak_${'1'.repeat(16)}_${'D'.repeat(43)}`;
    const owner = await given(app).user();
    const organization = await given(app).organization({ owner });
    const second = await startTestApp({ AUTH_RATE_LIMIT_PER_ADDRESS: '3' }, {}, app);
    try {
      // Guesses on the first process until it refuses the address (the second has seen no failure).
      let refused = false;
      for (let attempt = 0; attempt < 4 && !refused; attempt += 1) {
        refused = codeOf(await app.gql(ORGANIZATION, { slug: organization.slug }, guess())) === 'RATE_LIMITED';
      }
      assert.ok(refused, 'the first process refuses the address');
      const first = await second.gql(ORGANIZATION, { slug: organization.slug }, guess());
      assert.equal(codeOf(first), 'UNAUTHENTICATED');
      const next = await second.gql(ORGANIZATION, { slug: organization.slug }, guess());
      assert.equal(codeOf(next), 'RATE_LIMITED');
      assert.equal(statementsOf(next), 0);
    } finally {
      await second.close();
    }
  });
});

describe('key secrets in the log', () => {
  const lines: string[] = [];
  let app: TestApp;
  before(async () => {
    app = await startTestApp(
      { LOG_LEVEL: 'debug' },
      { logDestination: { write: (line: string) => void lines.push(line) } },
    );
  });
  after(() => app.close());

  it('appear in no line, at debug level, whether the key is made, used, refused or revoked', async () => {
    const owner = await given(app).user();
    const organization = await given(app).organization({ owner });
    const account = await given(app).serviceAccount({ organization, role: 'MEMBER', by: owner });
    const key = await given(app).apiKey({ serviceAccount: account, by: owner });
    const pat = await given(app).personalAccessToken({ user: owner });
    ok(await app.gql(ORGANIZATION, { slug: organization.slug }, key.secret));
    ok(await app.gql('{ me { id } }', {}, pat.secret));
    // A failing request logs its error, and a refused key its refusal.
    await app.gql('{ me { id } }', {}, key.secret);
    await app.gql(ORGANIZATION, { slug: organization.slug }, `${key.secret.slice(0, -1)}x`);
    ok(await app.gql('mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: key.id }, owner.token));
    await eventually(() =>
      Promise.resolve(assert.ok(lines.some((line) => line.includes('revokeApiKey') || line.includes('"request"')))),
    );
    const secrets = [key.secret, pat.secret].map((secret) => secret.slice(21));
    assert.ok(lines.length > 10, 'the server logged the requests');
    for (const secret of secrets) assert.ok(!lines.some((line) => line.includes(secret)), 'no line holds a secret');
  });
});
