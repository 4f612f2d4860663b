import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client } from 'pg';
import {
  freePort,
  missingBinaries,
  PgBouncer,
  PostgresNode,
  removeScratch,
  runAsPostgres,
  scratchDirectory,
  PG_BIN,
} from './cluster';

/**
 * `npm run test:topology`: the deployment of docs/scaling.md on loopback. A PostgreSQL 15 primary
 * and a streaming replica (pg_basebackup), PgBouncer 1.18 in transaction mode in front of the
 * primary, and two API processes (the built server) that reach the primary through PgBouncer,
 * read from the replica, and migrate and LISTEN on a direct connection. Each `it` is one step
 * against both processes; a new step is one more `it`.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const runFile = promisify(execFile);

/** Run by hand without Debian's binaries it says why and does nothing; CI sets TOPOLOGY_REQUIRED=1. */
const missing = missingBinaries();
if (missing && process.env.TOPOLOGY_REQUIRED) throw new Error(`the topology test cannot run: ${missing}`);

interface ApiProcess {
  name: string;
  child: ChildProcess;
  url: string;
  metricsUrl: string;
  logs: string[];
}

interface GraphQLAnswer<T> {
  data?: T;
  errors?: { message: string; extensions: { code: string } }[];
}

async function gql<T = Record<string, unknown>>(
  api: ApiProcess,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLAnswer<T>> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLAnswer<T>;
}

function data<T>(answer: GraphQLAnswer<T>): T {
  assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
  return answer.data as T;
}

const codes = (answer: GraphQLAnswer<unknown>) => answer.errors?.map((error) => error.extensions.code) ?? [];

async function metric(api: ApiProcess, series: string): Promise<number | undefined> {
  const text = await (await fetch(api.metricsUrl)).text();
  const line = text.split('\n').find((row) => row.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('topology: PgBouncer, a streaming replica and two API processes', { skip: missing ?? false }, () => {
  let dir: string;
  let primary: PostgresNode;
  let replica: PostgresNode;
  let bouncer: PgBouncer;
  const apis: ApiProcess[] = [];
  const secrets = {
    AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };

  function environment(port: number, metricsPort: number): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      DATA_DIR: path.join(dir, `data-${port}`),
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
      DATABASE_URL: bouncer.url(),
      MIGRATION_DATABASE_URL: primary.url(),
      DATABASE_REPLICA_URLS: replica.url(),
      READ_YOUR_WRITES_SECONDS: '30',
      AUTH_RATE_LIMIT_PER_ACCOUNT: '3',
      MIGRATE_ON_START: 'true',
      SHUTDOWN_DELAY_MS: '0',
      ...secrets,
    };
  }

  async function startApi(name: string): Promise<ApiProcess> {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
      cwd: ROOT,
      env: environment(port, metricsPort),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const api: ApiProcess = {
      name,
      child,
      url: `http://127.0.0.1:${port}`,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      logs: [],
    };
    const keep = (chunk: Buffer) => api.logs.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return api;
  }

  async function ready(api: ApiProcess): Promise<void> {
    await until(async () => {
      if (api.child.exitCode !== null) throw new Error(`${api.name} exited:\n${api.logs.join('\n')}`);
      return (await fetch(`${api.url}/readyz`).catch(() => null))?.status === 200;
    }, `${api.name} to be ready`);
  }

  before(async () => {
    dir = scratchDirectory();
    primary = await PostgresNode.primary(dir, await freePort());
    await runAsPostgres(path.join(PG_BIN, 'createdb'), [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      'platform',
    ]);
    replica = await PostgresNode.replicaOf(primary, dir, await freePort());
    bouncer = new PgBouncer(await freePort());
    await bouncer.start(dir, primary);
  });

  after(async () => {
    for (const api of apis) {
      if (api.child.exitCode !== null) continue;
      const exited = new Promise((resolve) => api.child.once('exit', resolve));
      api.child.kill('SIGTERM');
      await exited;
    }
    await bouncer?.stop();
    await replica?.stop().catch(() => undefined);
    await primary?.stop().catch(() => undefined);
    if (dir) removeScratch(dir);
  });

  it('a migration through PgBouncer without MIGRATION_DATABASE_URL is refused, naming it, and applies nothing', async () => {
    const env = { ...environment(0, 0), MIGRATION_DATABASE_URL: '' };
    const refused = await runFile(
      process.execPath,
      [path.join(ROOT, 'dist', 'scripts', 'migrations.js'), 'up', '--steps', '1'],
      {
        cwd: ROOT,
        env,
      },
    ).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    assert.ok(refused, 'the run was refused');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /MIGRATION_DATABASE_URL/);
    const client = new Client({ connectionString: primary.url() });
    await client.connect();
    const { rows } = await client.query<{ table: string | null }>(
      `SELECT to_regclass('platform.migrations')::text AS table`,
    );
    await client.end();
    assert.equal(rows[0].table, null);
  });

  it('two API processes that start at once through PgBouncer migrate once: one applies, the other finds nothing to do', async () => {
    apis.push(await startApi('api-1'), await startApi('api-2'));
    await Promise.all(apis.map(ready));
    const applied = apis.filter((api) => api.logs.some((line) => line.includes('"migrations applied"')));
    assert.equal(applied.length, 1, apis.map((api) => api.logs.join('\n')).join('\n----\n'));
    const client = new Client({ connectionString: primary.url() });
    await client.connect();
    const { rows } = await client.query<{ count: string; distinct: string }>(
      'SELECT count(*) AS count, count(DISTINCT name) AS distinct FROM platform.migrations',
    );
    await client.end();
    assert.equal(rows[0].count, rows[0].distinct);
    assert.ok(Number(rows[0].count) > 0);
  });
  const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }';
  const LOG_IN = 'mutation ($input: LogInInput!) { logIn(input: $input) { accessToken } }';
  const ORGANIZATION = 'query ($slug: String!) { organization(slug: $slug) { name } }';
  const ME = '{ me { id } }';
  const PASSWORD = 'a long enough password';
  const world = { owner: { email: '', token: '' }, slug: '', projectRef: '', apiKey: '', apiKeyId: '' };

  async function signUp(api: ApiProcess, label: string): Promise<{ email: string; token: string }> {
    const email = `${label}-${randomBytes(4).toString('hex')}@example.com`;
    const answer = await gql<{ signUp: { accessToken: string } }>(api, SIGN_UP, {
      input: { email, password: PASSWORD, displayName: label },
    });
    return { email, token: data(answer).signUp.accessToken };
  }

  const routed = (api: ApiProcess, target: string) =>
    metric(api, `platform_api_read_routing_total{target="${target}"}`).then((value) => value ?? 0);
  const replicaHealthy = (api: ApiProcess) =>
    metric(api, `platform_api_replica_healthy{replica="127.0.0.1:${replica.port}/platform"}`);

  it('the lifecycle runs across both processes: sign-up, organization, project, invitation, rotation, API key', async () => {
    const [one, two] = apis;
    world.owner = await signUp(one, 'owner');
    world.slug = `org-${randomBytes(4).toString('hex')}`;
    const owner = world.owner.token;
    data(
      await gql(
        two,
        'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }',
        {
          input: { name: 'Topology', slug: world.slug },
        },
        owner,
      ),
    );
    const project = data(
      await gql<{ createProject: { ref: string } }>(
        one,
        'mutation ($input: CreateProjectInput!) { createProject(input: $input) { ref } }',
        {
          input: { name: 'P', organizationSlug: world.slug, region: 'eu-west-1' },
        },
        owner,
      ),
    ).createProject;
    world.projectRef = project.ref;
    const member = await signUp(one, 'member');
    const invited = data(
      await gql<{ inviteMember: { token: string } }>(
        two,
        'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        {
          input: { organizationSlug: world.slug, email: member.email, role: 'MEMBER' },
        },
        owner,
      ),
    ).inviteMember;
    data(
      await gql(
        one,
        'mutation ($token: String!) { acceptInvitation(token: $token) { role } }',
        { token: invited.token },
        member.token,
      ),
    );
    data(
      await gql(
        two,
        'mutation ($ref: String!) { rotateProjectJwtSecret(ref: $ref) { anonKey } }',
        { ref: project.ref },
        owner,
      ),
    );
    const account = data(
      await gql<{ createServiceAccount: { id: string } }>(
        one,
        'mutation ($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { id } }',
        {
          input: { name: 'ci', organizationSlug: world.slug, role: 'MEMBER' },
        },
        owner,
      ),
    ).createServiceAccount;
    const key = data(
      await gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
        two,
        'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
        {
          input: { name: 'deploy', serviceAccountId: account.id },
        },
        owner,
      ),
    ).createApiKey;
    [world.apiKey, world.apiKeyId] = [key.secret, key.apiKey.id];
    for (const api of apis) {
      const read = data(
        await gql<{ organization: { name: string } }>(api, ORGANIZATION, { slug: world.slug }, world.apiKey),
      );
      assert.equal(read.organization.name, 'Topology');
    }
  });

  it('a revoked API key is refused by the other process on its next request', async () => {
    const [one, two] = apis;
    // Both processes have verified (and remembered) the key in the step before.
    data(await gql(one, 'mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: world.apiKeyId }, world.owner.token));
    assert.deepEqual(codes(await gql(two, ORGANIZATION, { slug: world.slug }, world.apiKey)), ['UNAUTHENTICATED']);
  });

  it('a session logged out on one process is refused by the other on its next request', async () => {
    const [one, two] = apis;
    const user = await signUp(one, 'leaver');
    // The other process has seen (and remembered) the live session.
    data(await gql(two, ME, {}, user.token));
    data(await gql(one, 'mutation { logOut }', {}, user.token));
    assert.deepEqual(codes(await gql(two, ME, {}, user.token)), ['UNAUTHENTICATED']);
    assert.deepEqual(codes(await gql(one, ME, {}, user.token)), ['UNAUTHENTICATED']);
  });

  it('read-your-writes holds for the one-statement rename of a project, across the processes', async () => {
    const [one, two] = apis;
    const PROJECT = 'query ($ref: String!) { project(ref: $ref) { name } }';
    const primaryReads = await routed(two, 'primary');
    const name = `Renamed ${randomBytes(3).toString('hex')}`;
    data(
      await gql(
        one,
        'mutation ($ref: String!, $name: String!) { updateProject(ref: $ref, input: { name: $name }) { name } }',
        { ref: world.projectRef, name },
        world.owner.token,
      ),
    );
    const read = data(
      await gql<{ project: { name: string } }>(two, PROJECT, { ref: world.projectRef }, world.owner.token),
    );
    assert.equal(read.project.name, name);
    assert.equal(await routed(two, 'primary'), primaryReads + 1);
  });

  it("read-your-writes: after a write on one process, the caller's reads on the other go to the primary", async () => {
    const [one, two] = apis;
    const reader = await signUp(one, 'reader');
    // A caller who has not written reads from the replica.
    const replicaReads = await routed(two, 'replica');
    data(await gql(two, ME, {}, reader.token));
    assert.equal(await routed(two, 'replica'), replicaReads + 1);
    const primaryReads = await routed(two, 'primary');
    const name = `Renamed ${randomBytes(3).toString('hex')}`;
    data(
      await gql(
        one,
        'mutation ($slug: String!, $name: String!) { updateOrganization(slug: $slug, input: { name: $name }) { name } }',
        {
          slug: world.slug,
          name,
        },
        world.owner.token,
      ),
    );
    const read = data(
      await gql<{ organization: { name: string } }>(two, ORGANIZATION, { slug: world.slug }, world.owner.token),
    );
    assert.equal(read.organization.name, name);
    assert.equal(await routed(two, 'primary'), primaryReads + 1);
  });

  it('the log-in throttle is shared: 3 attempts per account across both processes, then RATE_LIMITED on either', async () => {
    const [one, two] = apis;
    const victim = await signUp(one, 'victim');
    for (const api of [one, two, one]) {
      assert.deepEqual(codes(await gql(api, LOG_IN, { input: { email: victim.email, password: 'wrong password' } })), [
        'UNAUTHENTICATED',
      ]);
    }
    for (const api of [two, one]) {
      assert.deepEqual(codes(await gql(api, LOG_IN, { input: { email: victim.email, password: PASSWORD } })), [
        'RATE_LIMITED',
      ]);
    }
  });

  it('a replica that stops is skipped (the primary serves its reads), and used again once it is back', async () => {
    const [one] = apis;
    const reader = await signUp(one, 'patient');
    await until(async () => (await replicaHealthy(one)) === 1, 'the replica to be in use');
    await replica.stop();
    await until(async () => (await replicaHealthy(one)) === 0, 'the stopped replica to be skipped');
    const primaryReads = await routed(one, 'primary');
    data(await gql(one, ME, {}, reader.token));
    assert.equal(await routed(one, 'primary'), primaryReads + 1);
    await replica.start();
    await until(async () => (await replicaHealthy(one)) === 1, 'the restarted replica to be used again');
    const replicaReads = await routed(one, 'replica');
    data(await gql(one, ME, {}, reader.token));
    assert.equal(await routed(one, 'replica'), replicaReads + 1);
  });
});
