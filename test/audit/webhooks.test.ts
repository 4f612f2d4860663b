import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { eventually, given, ok, type TestOrganization, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback; `answer` picks each response's status. */
async function receiver(answer: (count: number) => number = () => 200) {
  const received: Received[] = [];
  let count = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      count += 1;
      received.push({ headers: req.headers, body });
      res.writeHead(answer(count)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => new Promise((r) => server.close(r)) };
}

const CREATE = `mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) { secret webhook { id url events enabled } } }`;

const DELIVERIES = `query ($slug: String!) { organization(slug: $slug) { webhooks { nodes { id enabled consecutiveFailures
  deliveries { nodes { id eventId action status attempts lastResponseStatus lastError } } } } } }`;

interface Delivery {
  id: string;
  action: string;
  status: string;
  attempts: number;
  lastResponseStatus: number | null;
  lastError: string | null;
}

type Hooks = { organization: { webhooks: { nodes: { enabled: boolean; deliveries: { nodes: Delivery[] } }[] } } };

const RECEIVER_ENV = {
  BILLING_ENABLED: 'false',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_BASE_MS: '50',
};

describe('webhooks: audit events POSTed and signed by Standard Webhooks', () => {
  let app: TestApp;
  let owner: TestUser;
  before(async () => {
    app = await startTestApp(RECEIVER_ENV);
    owner = await given(app).user();
  });
  after(() => app.close());

  async function hook(organization: TestOrganization, url: string, events: string[]) {
    const input = { organizationSlug: organization.slug, url, events, description: 'SIEM' };
    const { createWebhook } = ok(
      await app.gql<{ createWebhook: { secret: string; webhook: { id: string } } }>(CREATE, { input }, owner.token),
    );
    return createWebhook;
  }

  const deliveriesOf = async (organization: TestOrganization) =>
    ok(await app.gql<Hooks>(DELIVERIES, { slug: organization.slug }, owner.token)).organization.webhooks.nodes[0];

  it('a matching event reaches the receiver, whose Standard Webhooks library verifies it', async () => {
    const target = await receiver();
    const organization = await given(app).organization({ owner });
    const { secret } = await hook(organization, target.url, ['project.*']);
    assert.match(secret, /^whsec_/);
    const project = await given(app).project({ organization, by: owner, name: 'Hooked' });
    await eventually(() => Promise.resolve(assert.ok(target.received.length >= 1)), 20_000);
    const [first] = target.received;
    const payload = new Webhook(secret).verify(first.body, first.headers as Record<string, string>) as Record<
      string,
      unknown
    >;
    assert.equal(payload.action, 'project.create');
    assert.equal(payload.projectRef, project.ref);
    assert.deepEqual((payload.organization as { slug: string }).slug, organization.slug);
    assert.match(String(first.headers['webhook-signature']), /^v1,/);
    assert.throws(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(first.body, first.headers as never),
    );
    await eventually(async () => {
      const { deliveries } = await deliveriesOf(organization);
      assert.ok(
        deliveries.nodes.some((d) => d.action === 'project.create' && d.status === 'DELIVERED' && d.attempts === 1),
      );
    }, 20_000);
    // Only what it asked for: the organization's other events are not sent.
    assert.ok(target.received.every((r) => (JSON.parse(r.body) as { action: string }).action.startsWith('project.')));
    const stored = await app.sql<{ secret: string }>('SELECT secret FROM webhooks');
    assert.ok(
      stored.every((row) => !row.secret.includes(secret.slice(6))),
      'the secret is stored sealed',
    );
    await target.close();
  });

  it('a rename (one statement) is delivered too', async () => {
    const target = await receiver();
    const organization = await given(app).organization({ owner });
    const project = await given(app).project({ organization, by: owner });
    await hook(organization, target.url, ['project.update']);
    ok(
      await app.gql(
        'mutation ($ref: String!) { updateProject(ref: $ref, input: { name: "Renamed" }) { name } }',
        { ref: project.ref },
        owner.token,
      ),
    );
    await eventually(() => Promise.resolve(assert.equal(target.received.length, 1)), 20_000);
    const body = JSON.parse(target.received[0].body) as { changes: unknown };
    assert.deepEqual(body.changes, [{ field: 'name', before: 'Test Project', after: 'Renamed' }]);
    await target.close();
  });

  it('a receiver that is down, then up, gets the event after retries, with the same webhook-id', async () => {
    const target = await receiver((count) => (count <= 2 ? 503 : 204));
    const organization = await given(app).organization({ owner });
    const { secret } = await hook(organization, target.url, ['member.invite']);
    await given(app).member({ organization, role: 'VIEWER', by: owner });
    await eventually(() => Promise.resolve(assert.ok(target.received.length >= 3)), 30_000);
    const ids = new Set(target.received.map((r) => r.headers['webhook-id']));
    assert.equal(ids.size, 1);
    for (const attempt of target.received) new Webhook(secret).verify(attempt.body, attempt.headers as never);
    await eventually(async () => {
      const { deliveries } = await deliveriesOf(organization);
      const invite = deliveries.nodes.find((d) => d.action === 'member.invite');
      assert.equal(invite?.status, 'DELIVERED');
      assert.equal(invite?.attempts, 3);
    }, 20_000);
    await target.close();
  });

  it('a delivery is sent again on request, with the same webhook-id', async () => {
    const target = await receiver();
    const organization = await given(app).organization({ owner });
    await hook(organization, target.url, ['project.create']);
    await given(app).project({ organization, by: owner });
    await eventually(() => Promise.resolve(assert.equal(target.received.length, 1)), 20_000);
    const [delivery] = (await deliveriesOf(organization)).deliveries.nodes;
    ok(
      await app.gql(
        'mutation ($id: ID!) { redeliverWebhookDelivery(id: $id) { status } }',
        { id: delivery.id },
        owner.token,
      ),
    );
    await eventually(() => Promise.resolve(assert.equal(target.received.length, 2)), 20_000);
    assert.equal(target.received[1].headers['webhook-id'], target.received[0].headers['webhook-id']);
    await target.close();
  });

  it('a delivery due to a disabled webhook is ended, not sent (nor left pending for ever)', async () => {
    const target = await receiver();
    const organization = await given(app).organization({ owner });
    const { webhook } = await hook(organization, target.url, ['billing.never']);
    ok(
      await app.gql(
        'mutation ($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { enabled } }',
        { id: webhook.id },
        owner.token,
      ),
    );
    const [delivery] = await app.sql<{ id: string }>(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, action, status)
       SELECT $1, id, action, 'FAILED' FROM audit_events WHERE organization_id = $2 LIMIT 1 RETURNING id`,
      [webhook.id, organization.id],
    );
    ok(
      await app.gql(
        'mutation ($id: ID!) { redeliverWebhookDelivery(id: $id) { status } }',
        { id: delivery.id },
        owner.token,
      ),
    );
    await eventually(async () => {
      const [row] = await app.sql<{ status: string; last_error: string }>(
        'SELECT status, last_error FROM webhook_deliveries WHERE id = $1',
        [delivery.id],
      );
      assert.deepEqual(row, { status: 'FAILED', last_error: 'the webhook is disabled' });
    }, 20_000);
    assert.equal(target.received.length, 0);
    await target.close();
  });

  it('only owners and admins manage webhooks; others’ are NOT_FOUND', async () => {
    const organization = await given(app).organization({ owner });
    const member = await given(app).member({ organization, role: 'MEMBER', by: owner });
    // A public address, named without DNS; and events that nothing here records, so nothing is sent to it.
    const input = { organizationSlug: organization.slug, url: 'https://93.184.215.14/hook', events: ['billing.*'] };
    const refused = await app.gql(CREATE, { input }, member.token);
    assert.equal(refused.errors?.[0].extensions.code, 'FORBIDDEN');
    const { webhook } = await hook(organization, input.url, input.events);
    const outsider = await given(app).user();
    const foreign = await app.gql('mutation ($id: ID!) { deleteWebhook(id: $id) }', { id: webhook.id }, outsider.token);
    assert.equal(foreign.errors?.[0].extensions.code, 'NOT_FOUND');
    const rotated = ok(
      await app.gql<{ rotateWebhookSecret: { secret: string } }>(
        'mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }',
        { id: webhook.id },
        owner.token,
      ),
    );
    assert.match(rotated.rotateWebhookSecret.secret, /^whsec_/);
    ok(await app.gql('mutation ($id: ID!) { deleteWebhook(id: $id) }', { id: webhook.id }, owner.token));
  });
});

describe('webhooks that keep failing are disabled', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ ...RECEIVER_ENV, WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_DISABLE_AFTER_FAILURES: '2' });
  });
  after(() => app.close());

  it('after WEBHOOK_DISABLE_AFTER_FAILURES failed deliveries in a row, by the system, which records it', async () => {
    const target = await receiver(() => 500);
    const owner = await given(app).user();
    const organization = await given(app).organization({ owner });
    const input = { organizationSlug: organization.slug, url: target.url, events: ['member.invite'] };
    ok(await app.gql(CREATE, { input }, owner.token));
    await given(app).member({ organization, role: 'VIEWER', by: owner });
    await given(app).member({ organization, role: 'VIEWER', by: owner });
    await eventually(async () => {
      const [webhook] = ok(await app.gql<Hooks>(DELIVERIES, { slug: organization.slug }, owner.token)).organization
        .webhooks.nodes;
      assert.equal(webhook.enabled, false);
      assert.ok(webhook.deliveries.nodes.every((d) => d.status === 'FAILED' && d.lastResponseStatus === 500));
    }, 20_000);
    const [event] = await app.sql<{ actor_type: string }>(
      "SELECT actor_type FROM audit_events WHERE action = 'webhook.disable' AND organization_id = $1",
      [organization.id],
    );
    assert.equal(event.actor_type, 'SYSTEM');
    await target.close();
  });
});

describe('webhooks cannot reach into the platform’s network (SSRF)', () => {
  let app: TestApp;
  let owner: TestUser;
  let organization: TestOrganization;
  before(async () => {
    app = await startTestApp({ BILLING_ENABLED: 'false', WEBHOOK_RETRY_BASE_MS: '50' });
    owner = await given(app).user();
    organization = await given(app).organization({ owner });
  });
  after(() => app.close());

  const attempt = (url: string) =>
    app.gql(CREATE, { input: { organizationSlug: organization.slug, url, events: ['*'] } }, owner.token);

  for (const url of [
    'https://127.0.0.1/hook',
    'https://localhost/hook',
    'https://10.1.2.3/hook',
    'https://192.168.0.10/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[fd00:ec2::254]/hook',
    'https://[::127.0.0.1]/hook',
    'https://[64:ff9b:1::a00:1]/hook',
    'https://[fec0::1]/hook',
    'http://example.com/hook',
    'ftp://example.com/hook',
  ]) {
    it(`refuses ${url} with BAD_USER_INPUT on url, and creates nothing`, async () => {
      const response = await attempt(url);
      assert.equal(response.errors?.[0].extensions.code, 'BAD_USER_INPUT');
      assert.deepEqual(
        (response.errors?.[0].extensions.fields as { field: string }[]).map((problem) => problem.field),
        ['url'],
      );
      assert.deepEqual(await app.sql('SELECT id FROM webhooks'), []);
    });
  }

  it('says the same of a name that resolves inside as of one that does not resolve, and names no address', async () => {
    const inside = (await attempt('https://localhost/hook')).errors?.[0].message ?? '';
    const nowhere = (await attempt('https://no-such-host.invalid/hook')).errors?.[0].message ?? '';
    assert.equal(inside, nowhere);
    assert.doesNotMatch(inside, /127\.0\.0\.1|::1/);
  });

  it('an organization keeps at most 20 webhooks: the 21st is a CONFLICT on organizationSlug, and adds nothing', async () => {
    const mine = await given(app).organization({ owner });
    const create = () =>
      app.gql(
        CREATE,
        { input: { organizationSlug: mine.slug, url: 'https://93.184.215.14/hook', events: ['billing.never'] } },
        owner.token,
      );
    for (let i = 0; i < 20; i += 1) ok(await create());
    const refused = await create();
    assert.equal(refused.errors?.[0].extensions.code, 'CONFLICT');
    assert.equal(refused.errors?.[0].extensions.field, 'organizationSlug');
    const [{ count }] = await app.sql<{ count: string }>(
      'SELECT count(*) AS count FROM webhooks WHERE organization_id = $1',
      [mine.id],
    );
    assert.equal(Number(count), 20);
  });

  it('checks again at every delivery: a host that now resolves to loopback gets nothing', async () => {
    const target = await receiver();
    // As if its DNS had changed since the webhook was created.
    await app.sql(`INSERT INTO webhooks (organization_id, url, events, secret) VALUES ($1, $2, '{*}', 'sealed')`, [
      organization.id,
      target.url.replace('http:', 'https:'),
    ]);
    await given(app).project({ organization, by: owner });
    await eventually(async () => {
      const rows = await app.sql<{ last_error: string | null }>('SELECT last_error FROM webhook_deliveries');
      assert.ok(rows.length > 0 && rows.every((row) => row.last_error?.includes('public addresses only')));
    }, 20_000);
    assert.equal(target.received.length, 0);
    await target.close();
  });
});
