import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { startServer, type RunningServer } from '../../src/server';
import { createDatabase, dropDatabase } from '../support/database';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, '..', 'test', 'fixtures', 'legacy-platform.sql');
const secrets = {
  AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A new database holding the legacy fixture, as the hand-written migrations 001-004 left it. */
async function legacyDatabase(): Promise<string> {
  const url = await createDatabase({ migrated: false });
  await sql(url, readFileSync(FIXTURE, 'utf8'));
  return url;
}

async function cli(
  script: string,
  url: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, ...secrets, DATABASE_URL: url, NODE_ENV: 'test' };
  return promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts', script), ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

/** Every schema, table and row count: what "nothing changed" compares. */
async function snapshot(url: string): Promise<string> {
  const tables = await sql<{ name: string }>(
    url,
    `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
  );
  const counts: string[] = [];
  for (const { name } of tables) {
    const [row] = await sql<{ n: string }>(url, `SELECT count(*) AS n FROM ${name}`);
    counts.push(`${name} ${row.n}`);
  }
  return counts.join('\n');
}

interface Project {
  ref: string;
  name: string;
  credentials: { anonKey: string; serviceRoleKey: string; jwtSecret: string };
}

async function gql<T>(server: RunningServer, query: string, variables: object, token?: string) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data: T; errors?: { extensions: { code: string } }[] };
}

const LOG_IN = `mutation LogIn($email: String!, $password: String!) {
  logIn(input: { email: $email, password: $password }) { accessToken user { displayName } }
}`;
const LANCIO_PROJECTS = `query Lancio {
  organizations { nodes { slug projects { nodes { ref name credentials { anonKey serviceRoleKey jwtSecret } } } } }
}`;

describe('adopting a legacy database (npm run db:adopt)', () => {
  const databases: string[] = [];
  let adopted: string;
  let adoption: { code: number; stdout: string };
  before(async () => {
    adopted = await legacyDatabase();
    databases.push(adopted);
    adoption = await cli('adopt.js', adopted, ['--plan', 'lancio=team']);
  });
  after(async () => {
    for (const url of databases) await dropDatabase(url);
  });

  it('a dry run prints what it would copy, map and leave, with counts, and changes nothing', async () => {
    const url = await legacyDatabase();
    databases.push(url);
    const before = await snapshot(url);
    const dry = await cli('adopt.js', url, ['--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /organizations\s+2/);
    assert.match(dry.stdout, /projects\s+4\s+refs kept; status: acti?ve_healthy→ACTIVE_HEALTHY 3, paused→PAUSED 1/);
    assert.match(dry.stdout, /users\s+4\s+.*4 bcrypt hashes kept/);
    assert.match(dry.stdout, /access level: .*read_write→write 1.*readonly→read 1/);
    assert.match(dry.stdout, /invoices\s+2\s+a table whose shape adoption does not know/);
    assert.match(dry.stdout, /organizations\.stripe_customer_id\s+a column not copied/);
    assert.match(dry.stdout, /001_create_platform_schema\.sql, .*004_create_lancio_org\.sql/);
    assert.match(dry.stdout, /Dry run: nothing was changed/);
    assert.equal(await snapshot(url), before);
  });

  it('refuses, with the list of what it cannot map and how to map it, and changes nothing', async () => {
    const url = await legacyDatabase();
    databases.push(url);
    await sql(
      url,
      `INSERT INTO platform.permissions (user_id, project_id, access_level)
       VALUES ('8b3e4c30-0000-4000-8000-000000000004', '7a2d3b20-0000-4000-8000-000000000003', 'superuser')`,
    );
    await sql(url, `UPDATE platform.organizations SET slug = 'Acme Labs!' WHERE slug = 'acme-labs'`);
    const before = await snapshot(url);
    const refused = await cli('adopt.js', url);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /permissions\.access_level 'superuser' has no counterpart: 1 row/);
    assert.match(refused.stdout, /fix: --map access_level:superuser=read\|write\|admin/);
    assert.match(refused.stdout, /organizations\.slug is not .*: 1 row\(s\), e\.g\. Acme Labs!/);
    assert.match(refused.stdout, /nothing was changed/);
    assert.equal(await snapshot(url), before);
  });

  it('an error after the schema was built rolls everything back', async () => {
    const url = await legacyDatabase();
    databases.push(url);
    const before = await snapshot(url);
    const failed = await cli('adopt.js', url, ['--plan', 'lancio=platinum']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /--plan names plans that do not exist: platinum/);
    assert.equal(await snapshot(url), before, 'no schema renamed, no table created, no row copied');
  });

  it('adopts: the legacy schema is kept as platform_legacy, the migrations are applied, the copy is verified', async () => {
    assert.equal(adoption.code, 0, adoption.stdout);
    assert.match(adoption.stdout, /Verified against the legacy rows: organizations, projects, users/);
    const history = await sql(adopted, 'SELECT migration_name FROM platform_legacy.schema_migrations');
    assert.equal(history.length, 4);
    const [billing] = await sql<{ n: string }>(adopted, 'SELECT count(*) AS n FROM platform_legacy.invoices');
    assert.equal(billing.n, '2', 'billing rows of an unknown shape stay in platform_legacy');
    const status = await cli('migrations.js', adopted, ['status']);
    assert.equal(status.code, 0, status.stdout);
    const plans = await sql<{ slug: string; code: string }>(
      adopted,
      `SELECT o.slug, p.code FROM platform.subscriptions s JOIN platform.organizations o ON o.id = s.organization_id
       JOIN platform.plans p ON p.id = s.plan_id ORDER BY o.slug`,
    );
    assert.deepEqual(plans, [
      { slug: 'acme-labs', code: 'free' },
      { slug: 'lancio', code: 'team' },
    ]);
    const secretsAtRest = await sql<{ jwt_secret: string }>(adopted, 'SELECT jwt_secret FROM platform.credentials');
    assert.ok(secretsAtRest.every((row) => row.jwt_secret.startsWith('enc:v1:')));
  });

  it('a second run finds nothing to adopt', async () => {
    const again = await cli('adopt.js', adopted);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Nothing to adopt/);
  });

  it('a legacy user logs in with their bcrypt password, which becomes argon2id, and reads Lancio with keys that verify', async () => {
    const server = await startServer(
      loadConfig({ ...secrets, NODE_ENV: 'test', DATABASE_URL: adopted, PORT: '0', LOG_LEVEL: 'silent' }),
    );
    try {
      const wrong = await gql(server, LOG_IN, { email: 'ada@lancio.dev', password: 'not-her-password' });
      assert.equal(wrong.errors?.[0].extensions.code, 'UNAUTHENTICATED');
      const ben = await gql<{ logIn: { accessToken: string } }>(server, LOG_IN, {
        email: 'ben@lancio.dev',
        password: 'ben-legacy-password',
      });
      assert.ok(ben.data.logIn.accessToken, 'a $2a$ hash, and an e-mail adopted lower-cased');
      const ada = await gql<{ logIn: { accessToken: string } }>(server, LOG_IN, {
        email: 'ada@lancio.dev',
        password: 'ada-legacy-password',
      });
      const [hash] = await sql<{ hashed_password: string }>(
        adopted,
        `SELECT hashed_password FROM platform.users WHERE email = 'ada@lancio.dev'`,
      );
      assert.match(hash.hashed_password, /^\$argon2id\$/);
      const read = await gql<{ organizations: { nodes: { slug: string; projects: { nodes: Project[] } }[] } }>(
        server,
        LANCIO_PROJECTS,
        {},
        ada.data.logIn.accessToken,
      );
      const lancio = read.data.organizations.nodes.find((o) => o.slug === 'lancio');
      const projects = lancio?.projects.nodes ?? [];
      assert.deepEqual(projects.map((p) => p.ref).sort(), ['lancioanalytic3d', 'lancioprod0001ab', 'lanciostaging02c']);
      for (const project of projects) {
        const secret = new TextEncoder().encode(project.credentials.jwtSecret);
        const anon = await jwtVerify(project.credentials.anonKey, secret);
        const service = await jwtVerify(project.credentials.serviceRoleKey, secret);
        assert.deepEqual([anon.payload.role, anon.payload.ref], ['anon', project.ref]);
        assert.deepEqual([service.payload.role, service.payload.ref], ['service_role', project.ref]);
      }
    } finally {
      await server.stop();
    }
  });
});
