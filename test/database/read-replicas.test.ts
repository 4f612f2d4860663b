import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventually, given, ok, type TestOrganization, type TestUser } from '../support/given';
import { startTestApp, type TestApp } from '../support/server';

/**
 * Read routing on the suite's one database: the primary also stands as the "replica" (a server
 * not in recovery has replayed everything, so its lag is zero). Streaming replication, PgBouncer
 * and a replica that stops are exercised by `npm run test:topology`.
 */
const ORGANIZATION = 'query ($slug: String!) { organization(slug: $slug) { name } }';
const RENAME =
  'mutation ($slug: String!, $name: String!) { updateOrganization(slug: $slug, input: { name: $name }) { name } }';

/** One deployment: every process verifies the others' tokens. */
const SECRETS = {
  AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

function sample(text: string, series: string): number {
  const line = text.split('\n').find((row) => row.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function metrics(app: TestApp): Promise<string> {
  return (await fetch(`http://127.0.0.1:${app.server.metricsPort}/metrics`)).text();
}

async function routedTo(app: TestApp, target: 'replica' | 'primary'): Promise<number> {
  return sample(await metrics(app), `platform_api_read_routing_total{target="${target}"}`);
}

describe('read replicas (DATABASE_REPLICA_URLS)', () => {
  let primary: TestApp;
  let first: TestApp;
  let second: TestApp;
  let owner: TestUser;
  let organization: TestOrganization;

  before(async () => {
    primary = await startTestApp(SECRETS);
    const env = {
      ...SECRETS,
      DATABASE_REPLICA_URLS: primary.databaseUrl,
      METRICS_PORT: '0',
      READ_YOUR_WRITES_SECONDS: '60',
    };
    first = await startTestApp(env, {}, primary);
    second = await startTestApp(env, {}, primary);
    owner = await given(primary).user();
    organization = await given(primary).organization({ owner });
    // Each process reads writes from its LISTEN connection, once it is listening.
    await eventually(async () => {
      const before = await routedTo(first, 'replica');
      ok(await first.gql(ORGANIZATION, { slug: organization.slug }, owner.token));
      assert.equal(await routedTo(first, 'replica'), before + 1);
    });
  });
  after(async () => {
    await second?.close();
    await first?.close();
    await primary?.close();
  });

  it("a read-only operation's reads go to a healthy replica", async () => {
    const before = await routedTo(second, 'replica');
    ok(await second.gql(ORGANIZATION, { slug: organization.slug }, owner.token));
    assert.equal(await routedTo(second, 'replica'), before + 1);
    const text = await metrics(second);
    assert.match(text, /platform_api_replica_healthy\{replica="[^"]+"\} 1/);
  });

  it("after a caller's write, its reads go to the primary, on the other process too; other callers' stay on the replica", async () => {
    const writer = await given(primary).user();
    const own = await given(primary).organization({ owner: writer });
    ok(await first.gql(RENAME, { slug: own.slug, name: 'Renamed' }, writer.token));
    const [primaryBefore, replicaBefore] = [await routedTo(second, 'primary'), await routedTo(second, 'replica')];
    const read = ok(
      await second.gql<{ organization: { name: string } }>(ORGANIZATION, { slug: own.slug }, writer.token),
    );
    assert.equal(read.organization.name, 'Renamed');
    assert.equal(await routedTo(second, 'primary'), primaryBefore + 1);
    ok(await second.gql(ORGANIZATION, { slug: organization.slug }, owner.token));
    assert.equal(await routedTo(second, 'replica'), replicaBefore + 1);
  });

  it('a replica that does not answer is skipped: reads go to the primary and succeed', async () => {
    const down = await startTestApp(
      {
        ...SECRETS,
        DATABASE_REPLICA_URLS: 'postgres://nobody@127.0.0.1:1/none',
        METRICS_PORT: '0',
        DATABASE_CONNECT_TIMEOUT_MS: '500',
      },
      {},
      primary,
    );
    try {
      const read = ok(
        await down.gql<{ organization: { name: string } }>(ORGANIZATION, { slug: organization.slug }, owner.token),
      );
      assert.equal(read.organization.name, 'Test Organization');
      assert.equal(await routedTo(down, 'primary'), 1);
      assert.match(await metrics(down), /platform_api_replica_healthy\{replica="127\.0\.0\.1:1\/none"\} 0/);
    } finally {
      await down.close();
    }
  });
});
