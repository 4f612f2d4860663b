import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, given, ok, type TestOrganization, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

interface Event {
  action: string;
  actor: { type: string; id: string | null; label: string | null };
  target: { type: string; id: string | null; label: string | null };
  projectRef: string | null;
  changes: { field: string; before: unknown; after: unknown }[];
  requestId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  organization: { slug: string } | null;
}

const EVENT_FIELDS = `action actor { type id label } target { type id label } projectRef
  changes { field before after } requestId ipAddress userAgent organization { slug }`;

const ORGANIZATION_EVENTS = `query ($slug: String!, $filter: AuditEventFilter, $first: Int, $after: String) {
  organization(slug: $slug) { auditEvents(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { ${EVENT_FIELDS} } } } }`;

const MY_EVENTS = `query { me { auditEvents { totalCount nodes { ${EVENT_FIELDS} } } } }`;

const PLATFORM_EVENTS = `query ($filter: AuditEventFilter) { platform { auditEvents(filter: $filter) { totalCount nodes { ${EVENT_FIELDS} } } } }`;

const RENAME = 'mutation ($ref: String!, $name: String!) { updateProject(ref: $ref, input: { name: $name }) { name } }';

type Connection = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Event[] };

describe('audit events: one per change, in the change’s transaction', () => {
  let app: TestApp;
  let owner: TestUser;
  let organization: TestOrganization;

  before(async () => {
    app = await startTestApp({ BILLING_ENABLED: 'false' });
    owner = await given(app).user();
    organization = await given(app).organization({ owner });
  });
  after(() => app.close());

  const eventsOf = async (
    filter: Record<string, unknown> = {},
    token = owner.token,
    first?: number,
    cursor?: string,
  ) => {
    const response = await app.gql<{ organization: { auditEvents: Connection } }>(
      ORGANIZATION_EVENTS,
      { slug: organization.slug, filter, first, after: cursor },
      token,
    );
    return ok(response).organization.auditEvents;
  };

  it('a user’s change is recorded with its actor, target, diff, request id, address and User-Agent', async () => {
    const project = await given(app).project({ organization, by: owner, name: 'Ledger' });
    const { nodes } = await eventsOf({ actions: ['project.create'] });
    assert.equal(nodes.length, 1);
    const [event] = nodes;
    assert.deepEqual(event.actor, { type: 'USER', id: owner.id, label: owner.email });
    assert.deepEqual(event.target, { type: 'project', id: project.id, label: 'Ledger' });
    assert.equal(event.projectRef, project.ref);
    assert.deepEqual(
      event.changes.find((change) => change.field === 'name'),
      { field: 'name', before: null, after: 'Ledger' },
    );
    assert.ok(event.requestId && event.ipAddress);
    assert.equal(event.organization?.slug, organization.slug);
  });

  it('a rename stays one statement and records the name before and after', async () => {
    const project = await given(app).project({ organization, by: owner, name: 'Before' });
    const response = await app.gql(RENAME, { ref: project.ref, name: 'After' }, owner.token);
    ok(response);
    assert.equal(Number(response.headers.get('x-sql-statements')), 1);
    const { nodes } = await eventsOf({ actions: ['project.update'], projectRef: project.ref });
    assert.equal(nodes.length, 1);
    assert.deepEqual(nodes[0].changes, [{ field: 'name', before: 'Before', after: 'After' }]);
  });

  it('a refused rename records nothing', async () => {
    const project = await given(app).project({ organization, by: owner });
    const outsider = await given(app).user();
    const refused = await app.gql(RENAME, { ref: project.ref, name: 'Nope' }, outsider.token);
    assert.equal(refused.errors?.[0].extensions.code, 'NOT_FOUND');
    assert.equal((await eventsOf({ actions: ['project.update'], projectRef: project.ref })).totalCount, 0);
  });

  it('a change that rolls back leaves no event: demoting the last owner', async () => {
    const before = (await eventsOf()).totalCount;
    const response = await app.gql(
      'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
      { input: { organizationSlug: organization.slug, userId: owner.id, role: 'ADMIN' } },
      owner.token,
    );
    assert.equal(response.errors?.[0].extensions.code, 'CONFLICT');
    assert.equal((await eventsOf()).totalCount, before);
  });

  it('a role change records the role before and after', async () => {
    const member = await given(app).member({ organization, role: 'MEMBER', by: owner });
    ok(
      await app.gql(
        'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }',
        { input: { organizationSlug: organization.slug, userId: member.id, role: 'ADMIN' } },
        owner.token,
      ),
    );
    const { nodes } = await eventsOf({ actions: ['member.role.update'] });
    assert.deepEqual(nodes[0].target, { type: 'user', id: member.id, label: member.email });
    assert.deepEqual(nodes[0].changes, [{ field: 'role', before: 'member', after: 'admin' }]);
  });

  it('a service account’s change names it as the actor, and secrets read [redacted]', async () => {
    const account = await given(app).serviceAccount({ organization, role: 'ADMIN', by: owner, name: 'ci' });
    const key = await given(app).apiKey({ serviceAccount: account, by: owner });
    const created = await app.gql<{ createProject: { ref: string } }>(
      'mutation ($input: CreateProjectInput!) { createProject(input: $input) { ref } }',
      { input: { organizationSlug: organization.slug, name: 'By CI', region: 'eu-west-1' } },
      key.secret,
    );
    const { ref } = ok(created).createProject;
    const [byKey] = (await eventsOf({ actions: ['project.create'], projectRef: ref })).nodes;
    assert.deepEqual(byKey.actor, { type: 'SERVICE_ACCOUNT', id: account.id, label: 'ci' });
    const [keyEvent] = (await eventsOf({ actions: ['api_key.create'] })).nodes;
    assert.deepEqual(
      keyEvent.changes.find((change) => change.field === 'secret'),
      { field: 'secret', before: null, after: '[redacted]' },
    );
    assert.ok(!JSON.stringify(await app.sql('SELECT changes FROM audit_events')).includes(key.secret));
  });

  it('the system’s own work is recorded with actor SYSTEM: a project coming up', async () => {
    const project = await given(app).project({ organization, by: owner });
    await eventually(async () => {
      const { nodes } = await eventsOf({ actions: ['project.status.change'], projectRef: project.ref });
      assert.equal(nodes.length, 1);
      assert.equal(nodes[0].actor.type, 'SYSTEM');
      assert.deepEqual(nodes[0].changes, [{ field: 'status', before: 'COMING_UP', after: 'ACTIVE_HEALTHY' }]);
    });
  });

  it('a platform admin’s change is recorded with actor PLATFORM_ADMIN, and read by the operator', async () => {
    const admin = await given(app).platformUser();
    const other = await given(app).organization({ owner });
    ok(
      await app.gql(
        'mutation ($slug: String!, $reason: String!) { suspendOrganization(slug: $slug, reason: $reason) { status } }',
        { slug: other.slug, reason: 'Abuse report 42' },
        admin.token,
      ),
    );
    const response = await app.gql<{ platform: { auditEvents: Connection } }>(
      PLATFORM_EVENTS,
      { filter: { actions: ['organization.suspend'] } },
      admin.token,
    );
    const [event] = ok(response).platform.auditEvents.nodes;
    assert.deepEqual(event.actor, { type: 'PLATFORM_ADMIN', id: admin.id, label: admin.email });
    assert.equal(event.organization?.slug, other.slug);
    const denied = await app.gql(PLATFORM_EVENTS, {}, owner.token);
    assert.equal(denied.errors?.[0].extensions.code, 'FORBIDDEN');
  });

  it('only owners and admins read the organization’s log', async () => {
    const viewer = await given(app).member({ organization, role: 'VIEWER', by: owner });
    const member = await given(app).member({ organization, role: 'MEMBER', by: owner });
    const admin = await given(app).member({ organization, role: 'ADMIN', by: owner });
    for (const refused of [viewer, member]) {
      const response = await app.gql(ORGANIZATION_EVENTS, { slug: organization.slug }, refused.token);
      assert.equal(response.errors?.[0].extensions.code, 'FORBIDDEN');
    }
    assert.ok((await eventsOf({}, admin.token)).totalCount > 0);
    const outsider = await given(app).user();
    const foreign = await app.gql(ORGANIZATION_EVENTS, { slug: organization.slug }, outsider.token);
    assert.equal(foreign.errors?.[0].extensions.code, 'NOT_FOUND');
  });

  it('filters by actions (and prefixes), actor, project and time, and pages newest first', async () => {
    const member = await given(app).member({ organization, role: 'ADMIN', by: owner });
    const project = await given(app).project({ organization, by: member, name: 'Filtered' });
    const byMember = await eventsOf({ actorId: member.id, actions: ['project.*'] });
    assert.deepEqual(
      byMember.nodes.map((event) => event.action),
      ['project.create'],
    );
    assert.equal((await eventsOf({ projectRef: project.ref, actions: ['project.create'] })).totalCount, 1);
    const future = new Date(Date.now() + 3600_000).toISOString();
    assert.equal((await eventsOf({ since: future })).totalCount, 0);
    assert.equal((await eventsOf({ until: '2000-01-01T00:00:00.000Z' })).totalCount, 0);
    // Paged with a filter the background steps do not write to, so that the pages hold still.
    const members = { actions: ['member.*'] };
    const all = await eventsOf(members, owner.token, 100);
    const first = await eventsOf(members, owner.token, 2);
    const second = await eventsOf(members, owner.token, 2, first.pageInfo.endCursor ?? undefined);
    assert.ok(all.totalCount >= 4 && first.pageInfo.hasNextPage);
    assert.deepEqual(
      [...first.nodes, ...second.nodes].map((event) => JSON.stringify(event)),
      all.nodes.slice(0, 4).map((event) => JSON.stringify(event)),
    );
    assert.equal(all.nodes[0].action, 'member.join', 'newest first');
    const bad = await app.gql(
      ORGANIZATION_EVENTS,
      { slug: organization.slug, filter: { actions: ['DROP TABLE'] } },
      owner.token,
    );
    assert.equal(bad.errors?.[0].extensions.code, 'BAD_USER_INPUT');
  });
});

describe('account events: sign-up and log-ins, successes and failures', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  const LOG_IN = 'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }';

  it('a failed log-in is recorded though the mutation failed, without the password; the user reads both', async () => {
    const user = await given(app).user();
    const wrong = 'not the right password at all';
    const failed = await app.gql(LOG_IN, { input: { email: user.email, password: wrong } });
    assert.equal(failed.errors?.[0].extensions.code, 'UNAUTHENTICATED');
    ok(await app.gql(LOG_IN, { input: { email: user.email, password: user.password } }));
    const response = await app.gql<{ me: { auditEvents: Connection } }>(MY_EVENTS, {}, user.token);
    assert.deepEqual(
      ok(response).me.auditEvents.nodes.map((event) => event.action),
      ['session.login', 'session.login_failed', 'user.sign_up'],
    );
    const stored = JSON.stringify(await app.sql('SELECT * FROM audit_events'));
    assert.ok(!stored.includes(wrong) && !stored.includes(user.password));
  });

  it('a sign-up through an invitation is in the organization’s log, and in the user’s own', async () => {
    const owner = await given(app).user();
    const organization = await given(app).organization({ owner });
    const email = `joiner-${Date.now()}@example.com`;
    const invited = ok(
      await app.gql<{ inviteMember: { token: string } }>(
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        { input: { organizationSlug: organization.slug, email, role: 'ADMIN' } },
        owner.token,
      ),
    );
    const signedUp = ok(
      await app.gql<{ signUp: { accessToken: string; user: { id: string } } }>(
        'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }',
        {
          input: {
            email,
            password: 'a long enough password',
            displayName: 'Joiner',
            invitationToken: invited.inviteMember.token,
          },
        },
      ),
    );
    const inOrganization = ok(
      await app.gql<{ organization: { auditEvents: Connection } }>(
        ORGANIZATION_EVENTS,
        { slug: organization.slug, filter: { actions: ['user.sign_up'] } },
        owner.token,
      ),
    ).organization.auditEvents.nodes;
    assert.deepEqual(inOrganization[0]?.actor, { type: 'USER', id: signedUp.signUp.user.id, label: email });
    assert.deepEqual(
      inOrganization[0]?.changes.find((change) => change.field === 'role'),
      { field: 'role', before: null, after: 'admin' },
    );
    const mine = ok(await app.gql<{ me: { auditEvents: Connection } }>(MY_EVENTS, {}, signedUp.signUp.accessToken));
    assert.deepEqual(
      mine.me.auditEvents.nodes.map((event) => event.action),
      ['user.sign_up'],
    );
  });

  it('a user reads only their own account events', async () => {
    const one = await given(app).user();
    const two = await given(app).user();
    const response = await app.gql<{ me: { auditEvents: Connection } }>(MY_EVENTS, {}, two.token);
    const targets = ok(response).me.auditEvents.nodes.map((event) => event.target.id);
    assert.ok(targets.length > 0 && targets.every((id) => id === two.id) && !targets.includes(one.id));
  });
});
