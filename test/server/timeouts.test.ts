import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Pool } from 'pg';
import { loadConfig } from '../../src/config';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { ensureDatabase } from '../../src/database/ensure-database';
import { startServer, type RunningServer } from '../../src/server';
import { eventually, given, holdRowLock, lockWaiters } from '../support/given';
import { freePort } from '../support/ports';
import { startTestApp } from '../support/server';

const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }';
const CREATE_ORGANIZATION =
  'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { slug } }';
const ORGANIZATIONS = '{ organizations(first: 5) { totalCount nodes { slug } } }';
const RENAME =
  'mutation ($slug: String!, $input: UpdateOrganizationInput!) { updateOrganization(slug: $slug, input: $input) { name } }';

interface Answer {
  status: number;
  codes: string[];
  ms: number;
}

/** One GraphQL request, bounded by the test: a request that has not answered in 10 s is hanging. */
async function post(url: string, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const startedAt = Date.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
  const answer: Answer = {
    status: response.status,
    codes: (body.errors ?? []).map((error) => error.extensions.code),
    ms: Date.now() - startedAt,
  };
  return { ...answer, data: body.data };
}

/** The postmaster of a cluster and every process it started (its backends and workers). */
function clusterProcesses(dataDirectory: string): number[] {
  const postmaster = Number(readFileSync(path.join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

describe('statement timeouts', () => {
  it('every connection of both pools carries DATABASE_STATEMENT_TIMEOUT_MS and the idle-in-transaction timeout', async () => {
    const app = await startTestApp({
      DATABASE_STATEMENT_TIMEOUT_MS: '1500',
      DATABASE_IDLE_IN_TX_TIMEOUT_MS: '2500',
    });
    try {
      const show = 'SELECT current_setting($1) AS value';
      const main = await app.server.dataSource.query<{ value: string }[]>(show, ['statement_timeout']);
      const read = await (app.server.dataSource.leanReadPool as Pool).query<{ value: string }>(show, [
        'statement_timeout',
      ]);
      const idle = await app.server.dataSource.query<{ value: string }[]>(show, [
        'idle_in_transaction_session_timeout',
      ]);
      assert.deepEqual([main[0].value, read.rows[0].value, idle[0].value], ['1500ms', '1500ms', '2500ms']);
    } finally {
      await app.close();
    }
  });

  it('a statement that waits past the timeout is cancelled: SERVICE_UNAVAILABLE within the timeout, nothing written', async () => {
    const app = await startTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: '500' });
    try {
      const owner = await given(app).user();
      const organization = await given(app).organization({ owner, name: 'Before' });
      const lock = await holdRowLock(app, 'organizations', organization.id);
      try {
        const renaming = post(
          app.server.url,
          RENAME,
          { slug: organization.slug, input: { name: 'After' } },
          owner.token,
        );
        await lockWaiters(app, 1);
        const answer = await renaming;
        assert.deepEqual(answer.codes, ['SERVICE_UNAVAILABLE'], JSON.stringify(answer));
        assert.ok(answer.ms < 1500, `answered after ${answer.ms} ms`);
      } finally {
        await lock.release();
      }
      const [row] = await app.sql<{ name: string }>('SELECT name FROM organizations WHERE id = $1', [organization.id]);
      assert.equal(row.name, 'Before');
      const again = await post(
        app.server.url,
        RENAME,
        { slug: organization.slug, input: { name: 'After' } },
        owner.token,
      );
      assert.deepEqual(again.codes, [], 'the next request succeeds on the pool as it is');
    } finally {
      await app.close();
    }
  });
});

describe('a frozen database', () => {
  it('SIGSTOP of PostgreSQL: requests answer SERVICE_UNAVAILABLE within the timeout, write nothing, and the server recovers on SIGCONT', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'platform-api-frozen-'));
    chmodSync(dir, 0o755);
    const postgres = await startEmbeddedPostgres({ dir, port: await freePort(), throwaway: true });
    let server: RunningServer | undefined;
    let frozen: number[] = [];
    const thaw = () => frozen.splice(0).forEach((pid) => process.kill(pid, 'SIGCONT'));
    try {
      await ensureDatabase(postgres.adminUrl, 'platform');
      server = await startServer(
        loadConfig({
          NODE_ENV: 'test',
          DATABASE_URL: postgres.urlFor('platform'),
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
          DATABASE_STATEMENT_TIMEOUT_MS: '1000',
          DATABASE_CONNECT_TIMEOUT_MS: '1000',
          AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
          ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        }),
      );
      const url = server.url;
      const email = `frozen-${randomBytes(4).toString('hex')}@example.com`;
      const signedUp = await post(url, SIGN_UP, {
        input: { email, password: 'a long enough password', displayName: 'F' },
      });
      const token = (signedUp.data as { signUp: { accessToken: string } }).signUp.accessToken;
      assert.deepEqual((await post(url, ORGANIZATIONS, {}, token)).codes, []);

      frozen = clusterProcesses(path.join(dir, 'pgdata'));
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      const slug = `frozen-${randomBytes(4).toString('hex')}`;
      const [read, write, ready] = await Promise.all([
        post(url, ORGANIZATIONS, {}, token),
        post(url, CREATE_ORGANIZATION, { input: { name: 'Frozen', slug } }, token),
        fetch(new URL('/readyz', url)).then((response) => response.status),
      ]);
      for (const answer of [read, write]) {
        assert.deepEqual(answer.codes, ['SERVICE_UNAVAILABLE'], JSON.stringify(answer));
        // The timeout, PostgreSQL's grace and the test's slack: not the freeze's length.
        assert.ok(answer.ms < 2500, `answered after ${answer.ms} ms`);
      }
      assert.equal(ready, 503);

      thaw();
      await eventually(async () => assert.equal((await fetch(new URL('/readyz', url))).status, 200), 10_000);
      assert.deepEqual((await post(url, ORGANIZATIONS, {}, token)).codes, [], 'reads succeed again');
      const created = await post(url, CREATE_ORGANIZATION, { input: { name: 'Thawed', slug: `${slug}-2` } }, token);
      assert.deepEqual(created.codes, [], 'writes succeed again');
      const after = await post(url, ORGANIZATIONS, {}, token);
      const slugs = (after.data as { organizations: { nodes: { slug: string }[] } }).organizations.nodes.map(
        (n) => n.slug,
      );
      assert.deepEqual(slugs, [`${slug}-2`], 'the write answered SERVICE_UNAVAILABLE left nothing behind');
    } finally {
      thaw();
      await server?.stop().catch(() => undefined);
      await postgres.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
