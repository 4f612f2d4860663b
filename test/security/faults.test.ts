import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Client, type Pool, type PoolClient } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { loadConfig } from '../../src/config';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/database/embedded-postgres';
import { ensureDatabase } from '../../src/database/ensure-database';
import { startServer } from '../../src/server';
import { createDatabase, dropDatabase } from '../support/database';
import { eventually, given } from '../support/given';
import { freePort } from '../support/ports';
import { startTestApp } from '../support/server';

const secrets = {
  AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

/** No request may take longer than this: a slower one is hanging. */
const HANG_MS = 5000;

interface Outcome {
  ok: boolean;
  status: number;
  codes: string[];
  ms: number;
  startedAt: number;
}

/** One GraphQL request to 127.0.0.1, bounded in time; a timeout is recorded as a hang, a refused connection as status 0. */
async function call(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(HANG_MS),
    });
    const body = (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    const codes = (body.errors ?? []).map((error) => String(error.extensions?.code));
    return {
      ok: response.status === 200 && codes.length === 0,
      status: response.status,
      codes,
      ms: Date.now() - startedAt,
      startedAt,
    };
  } catch (error) {
    const hung = error instanceof Error && error.name === 'TimeoutError';
    return {
      ok: false,
      status: hung ? -1 : 0,
      codes: [hung ? 'HANG' : 'REFUSED'],
      ms: Date.now() - startedAt,
      startedAt,
    };
  }
}

const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
const CREATE_ORGANIZATION =
  'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }';
const ORGANIZATIONS = '{ organizations(first: 5) { totalCount nodes { slug } } }';
const RENAME =
  'mutation ($slug: String!, $input: UpdateOrganizationInput!) { updateOrganization(slug: $slug, input: $input) { name } }';

async function signUp(url: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: SIGN_UP,
      variables: {
        input: {
          email: `load-${randomBytes(4).toString('hex')}@example.com`,
          password: 'a long enough password',
          displayName: 'L',
        },
      },
    }),
  });
  const body = (await response.json()) as { data: { signUp: { accessToken: string } } };
  return body.data.signUp.accessToken;
}

/**
 * Workers that create organizations (and read) in a loop until stopped, at most `maxRequests`
 * in all; every acknowledged creation is recorded.
 */
function startLoad(url: string, token: string, workers: number, maxRequests: number) {
  const outcomes: Outcome[] = [];
  const acknowledged: string[] = [];
  let running = true;
  let sent = 0;
  const worker = async () => {
    while (running && sent < maxRequests) {
      sent += 1;
      if (sent % 4 === 0) {
        outcomes.push(await call(url, ORGANIZATIONS, {}, token));
        continue;
      }
      const slug = `load-${randomBytes(5).toString('hex')}`;
      const outcome = await call(url, CREATE_ORGANIZATION, { input: { name: 'Load', slug } }, token);
      outcomes.push(outcome);
      if (outcome.ok) acknowledged.push(slug);
      // A refused connection comes back at once: do not spin.
      if (!outcome.ok) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, worker));
  return {
    outcomes,
    acknowledged,
    async stop() {
      running = false;
      await done;
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('faults', () => {
  it('PostgreSQL stopping under load: /readyz turns 503 at once, requests fail typed and fast, the server recovers, no acknowledged write is lost', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'platform-api-faults-'));
    chmodSync(dir, 0o755);
    const port = await freePort();
    let postgres: RunningPostgres = await startEmbeddedPostgres({ dir, port });
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      await ensureDatabase(postgres.adminUrl, 'platform');
      const databaseUrl = postgres.urlFor('platform');
      server = await startServer(
        loadConfig({
          NODE_ENV: 'test',
          DATABASE_URL: databaseUrl,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
          AUTH_RATE_LIMIT_PER_ADDRESS: '1000000',
          ...secrets,
        }),
      );
      const url = server.url.replace('localhost', '127.0.0.1');
      const readyz = new URL('/readyz', url);
      const token = await signUp(url);
      const load = startLoad(url, token, 4, 3000);

      await pause(400);
      await postgres.stop();
      const stoppedAt = Date.now();
      const firstCheck = await fetch(readyz);
      assert.equal(firstCheck.status, 503, '/readyz is 503 as soon as the database is gone');
      assert.ok(Date.now() - stoppedAt < 1000, `/readyz answered in ${Date.now() - stoppedAt} ms`);

      await pause(1500);
      postgres = await startEmbeddedPostgres({ dir, port });
      const restartedAt = Date.now();
      await eventually(async () => assert.equal((await fetch(readyz)).status, 200), 15_000);
      await pause(600);
      await load.stop();

      const during = load.outcomes.filter((o) => o.startedAt > stoppedAt + 50 && o.startedAt + o.ms < restartedAt);
      assert.ok(during.length > 0, 'requests were sent while the database was down');
      for (const outcome of during) {
        assert.deepEqual(outcome.codes, ['SERVICE_UNAVAILABLE'], JSON.stringify(outcome));
        assert.ok(outcome.ms < 2000, `a request took ${outcome.ms} ms while the database was down`);
      }
      assert.deepEqual(
        load.outcomes.filter((o) =>
          o.codes.some((code) => code === 'HANG' || code === 'REFUSED' || code === 'INTERNAL_SERVER_ERROR'),
        ),
        [],
        'no request hung, was refused, or failed untyped',
      );
      const recovered = load.outcomes.filter((o) => o.ok && o.startedAt > restartedAt);
      assert.ok(recovered.length > 0, 'requests succeed again without a restart of the server');

      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ count: number }>(
          'SELECT count(*)::int AS count FROM platform.organizations WHERE slug = ANY($1)',
          [load.acknowledged],
        );
        assert.ok(load.acknowledged.length > 0);
        assert.equal(rows[0].count, load.acknowledged.length, 'every acknowledged organization is stored');
      } finally {
        await client.end();
      }
    } finally {
      await server?.stop().catch(() => undefined);
      await postgres.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM under load: in-flight requests complete, new ones are refused, the process exits in time', async () => {
    const databaseUrl = await createDatabase({ migrated: true });
    const port = await freePort();
    const shutdownTimeoutMs = 5000;
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'DATABASE_URL'));
    const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'src', 'main.js')], {
      env: {
        ...clean,
        ...secrets,
        NODE_ENV: 'test',
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
        AUTH_RATE_LIMIT_PER_ADDRESS: '1000000',
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lock = new Client({ connectionString: databaseUrl });
    const monitor = new Client({ connectionString: databaseUrl });
    try {
      await eventually(() => Promise.resolve(assert.match(output, /Platform API ready/)), 30_000);
      const url = `http://127.0.0.1:${port}/graphql`;
      const token = await signUp(url);
      const created = await call(
        url,
        CREATE_ORGANIZATION,
        { input: { name: 'Held', slug: `held-${randomBytes(4).toString('hex')}` } },
        token,
      );
      assert.ok(created.ok);
      const [{ id, slug }] = (
        await (async () => {
          await monitor.connect();
          return monitor.query<{ id: string; slug: string }>(
            "SELECT id, slug FROM platform.organizations WHERE name = 'Held'",
          );
        })()
      ).rows;

      // Renames queue behind a row lock of the test's own: they are in flight when the signal comes.
      await lock.connect();
      await lock.query('BEGIN');
      await lock.query('SELECT id FROM platform.organizations WHERE id = $1 FOR UPDATE', [id]);
      const inFlight = Array.from({ length: 6 }, (_, i) =>
        call(url, RENAME, { slug, input: { name: `Renamed ${i}` } }, token),
      );
      const load = startLoad(url, token, 2, 400);
      await eventually(async () => {
        const { rows } = await monitor.query<{ waiting: number }>(
          "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        assert.equal(rows[0].waiting, 6);
      });

      child.kill('SIGTERM');
      const signalledAt = Date.now();
      await eventually(() => Promise.resolve(assert.match(output, /shutting down/)));
      await pause(200);
      const late = await call(url, '{ __typename }', {});
      assert.ok(late.status === 0 || late.status === 503, `a new request is refused (got ${JSON.stringify(late)})`);
      assert.equal(child.exitCode, null, 'the server waits for what is in flight');

      await lock.query('ROLLBACK');
      const results = await Promise.all(inFlight);
      for (const result of results) assert.ok(result.ok, `an in-flight request completed: ${JSON.stringify(result)}`);
      await load.stop();
      assert.deepEqual(
        load.outcomes.filter((o) => o.codes.includes('HANG')),
        [],
        'no request hung during shutdown',
      );
      assert.equal(await exited, 0, output);
      assert.ok(Date.now() - signalledAt < shutdownTimeoutMs, `exited ${Date.now() - signalledAt} ms after SIGTERM`);
    } finally {
      child.kill('SIGKILL');
      await lock.end().catch(() => undefined);
      await monitor.end().catch(() => undefined);
      await dropDatabase(databaseUrl);
    }
  });

  it('no database connection within DATABASE_CONNECT_TIMEOUT_MS: reads and writes fail SERVICE_UNAVAILABLE, write nothing, and the next succeed', async () => {
    const app = await startTestApp({ DATABASE_CONNECT_TIMEOUT_MS: '300' });
    const held: PoolClient[] = [];
    try {
      const user = await given(app).user();
      // Every connection of both pools taken: TypeORM's, and the lean reads'.
      const pools = [
        (app.server.dataSource.driver as PostgresDriver).master as Pool,
        app.server.dataSource.leanReadPool as Pool,
      ];
      // One at a time, each kept as it comes, so that `finally` gives back every one taken.
      for (const pool of pools) {
        for (let taken = 0; taken < (pool.options.max ?? 10); taken += 1) held.push(await pool.connect());
      }
      const slug = `held-${randomBytes(4).toString('hex')}`;
      const read = await call(app.server.url, ORGANIZATIONS, {}, user.token);
      const write = await call(app.server.url, CREATE_ORGANIZATION, { input: { name: 'Held', slug } }, user.token);
      for (const outcome of [read, write]) {
        assert.deepEqual(outcome.codes, ['SERVICE_UNAVAILABLE'], JSON.stringify(outcome));
        // The 300 ms set here, not the 5000 ms default.
        assert.ok(outcome.ms < 2000, `answered after ${outcome.ms} ms`);
      }

      for (const client of held.splice(0)) client.release();
      assert.ok((await call(app.server.url, ORGANIZATIONS, {}, user.token)).ok);
      assert.deepEqual(await app.sql('SELECT id FROM organizations WHERE slug = $1', [slug]), []);
    } finally {
      for (const client of held) client.release();
      await app.close();
    }
  });

  it('a database server that never answers: the start fails after DATABASE_CONNECT_TIMEOUT_MS, saying so', async () => {
    // It accepts connections and says nothing, as a server behind a stalled network or proxy does.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    let bound: NodeJS.Timeout | undefined;
    try {
      const config = loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: `postgres://platform:secret@127.0.0.1:${port}/platform`,
        DATABASE_CONNECT_TIMEOUT_MS: '300',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        ...secrets,
      });
      // Bounded here too: without a connect timeout the start would wait forever, and so would this file.
      const stillWaiting = new Promise<never>((_, reject) => {
        bound = setTimeout(() => reject(new Error('still connecting after 10 s')), 10_000);
      });
      const startedAt = Date.now();
      await assert.rejects(Promise.race([startServer(config), stillWaiting]), /connection timeout/);
      assert.ok(Date.now() - startedAt < 2000, `failed after ${Date.now() - startedAt} ms, not the 300 ms set`);
      assert.ok(sockets.length > 0, 'the server did try to connect');
    } finally {
      clearTimeout(bound);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
