import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { PlatformRole } from '../../src/entities/user.entity';
import { userRepository } from '../../src/repositories/user.repository';
import { closePeriods, type ClosedPeriod } from '../../src/services/billing-period.service';
import type { TestApp } from './server';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
}

export interface TestOrganization {
  id: string;
  slug: string;
}

export interface TestProject {
  id: string;
  ref: string;
}

export interface TestPaymentMethod {
  id: string;
  brand: string;
  last4: string;
  isDefault: boolean;
}

export interface TestServiceAccount {
  id: string;
  name: string;
  organization: TestOrganization;
}

export interface TestKey {
  id: string;
  secret: string;
}

export type Role = 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER';
export type Level = 'READ' | 'WRITE' | 'ADMIN';

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Expects a GraphQL response without errors and returns its data. */
export function ok<T>(response: { data: T | null; errors?: unknown[] }): T {
  assert.equal(response.errors, undefined, JSON.stringify(response.errors));
  assert.ok(response.data);
  return response.data;
}

/** Builds each test's own data through the API itself, as a client would. */
export function given(app: TestApp) {
  const api = {
    async user(options: { email?: string; password?: string; displayName?: string } = {}): Promise<TestUser> {
      const email = options.email ?? `${unique('user')}@example.com`;
      const password = options.password ?? 'a long enough password';
      const data = ok(
        await app.gql<{ signUp: { accessToken: string; user: { id: string; email: string } } }>(
          'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken user { id email } } }',
          { input: { email, password, displayName: options.displayName ?? 'Test User' } },
        ),
      );
      return { id: data.signUp.user.id, email: data.signUp.user.email, password, token: data.signUp.accessToken };
    },

    /**
     * A user holding a platform role (PLATFORM_ADMIN unless told), granted as `npm run platform:admin`
     * grants it: by the same repository call, outside the API.
     */
    async platformUser(options: { viewer?: boolean; user?: TestUser } = {}): Promise<TestUser> {
      const user = options.user ?? (await api.user());
      const role = options.viewer ? PlatformRole.PLATFORM_VIEWER : PlatformRole.PLATFORM_ADMIN;
      assert.ok(await userRepository.setPlatformRole(app.server.dataSource.manager, user.email, role));
      return user;
    },

    async organization(options: { owner: TestUser; name?: string; slug?: string }): Promise<TestOrganization> {
      const data = ok(
        await app.gql<{ createOrganization: TestOrganization }>(
          'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { id slug } }',
          { input: { name: options.name ?? 'Test Organization', slug: options.slug ?? unique('org') } },
          options.owner.token,
        ),
      );
      return data.createOrganization;
    },

    /** A user who joined `organization` with `role`, through an invitation accepted by them. */
    async member(options: {
      organization: TestOrganization;
      role: Role;
      by: TestUser;
      user?: TestUser;
    }): Promise<TestUser> {
      const user = options.user ?? (await api.user());
      const invited = ok(
        await app.gql<{ inviteMember: { token: string } }>(
          'mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
          { input: { organizationSlug: options.organization.slug, email: user.email, role: options.role } },
          options.by.token,
        ),
      );
      ok(
        await app.gql(
          'mutation ($token: String!) { acceptInvitation(token: $token) { role } }',
          { token: invited.inviteMember.token },
          user.token,
        ),
      );
      return user;
    },

    async project(options: { organization: TestOrganization; by: TestUser; name?: string }): Promise<TestProject> {
      const data = ok(
        await app.gql<{ createProject: TestProject }>(
          'mutation ($input: CreateProjectInput!) { createProject(input: $input) { id ref } }',
          {
            input: {
              organizationSlug: options.organization.slug,
              name: options.name ?? 'Test Project',
              region: 'eu-west-1',
            },
          },
          options.by.token,
        ),
      );
      return data.createProject;
    },

    async grant(options: { project: TestProject; user: TestUser; level: Level; by: TestUser }): Promise<void> {
      ok(
        await app.gql(
          'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }',
          { input: { projectRef: options.project.ref, userId: options.user.id, accessLevel: options.level } },
          options.by.token,
        ),
      );
    },

    /** A service account of `organization` with `role`, made by `by` (who may manage members). */
    async serviceAccount(options: {
      organization: TestOrganization;
      role: Exclude<Role, 'OWNER'>;
      by: TestUser;
      name?: string;
    }): Promise<TestServiceAccount> {
      const data = ok(
        await app.gql<{ createServiceAccount: { id: string; name: string } }>(
          'mutation ($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { id name } }',
          {
            input: {
              organizationSlug: options.organization.slug,
              name: options.name ?? unique('robot'),
              role: options.role,
            },
          },
          options.by.token,
        ),
      );
      return { ...data.createServiceAccount, organization: options.organization };
    },

    /** An API key of the service account; its secret, shown this once. */
    async apiKey(options: { serviceAccount: { id: string }; by: TestUser; expiresAt?: Date }): Promise<TestKey> {
      const data = ok(
        await app.gql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(
          'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }',
          {
            input: {
              serviceAccountId: options.serviceAccount.id,
              name: unique('key'),
              expiresAt: options.expiresAt?.toISOString() ?? null,
            },
          },
          options.by.token,
        ),
      );
      return { id: data.createApiKey.apiKey.id, secret: data.createApiKey.secret };
    },

    /** A personal access token of the user (made with their session's token). */
    async personalAccessToken(options: { user: TestUser; expiresAt?: Date }): Promise<TestKey> {
      const data = ok(
        await app.gql<{ createPersonalAccessToken: { token: { id: string }; secret: string } }>(
          'mutation ($input: CreatePersonalAccessTokenInput!) { createPersonalAccessToken(input: $input) { token { id } secret } }',
          { input: { name: unique('token'), expiresAt: options.expiresAt?.toISOString() ?? null } },
          options.user.token,
        ),
      );
      return { id: data.createPersonalAccessToken.token.id, secret: data.createPersonalAccessToken.secret };
    },

    async grantServiceAccount(options: {
      project: TestProject;
      serviceAccount: { id: string };
      level: Level;
      by: TestUser;
    }): Promise<void> {
      ok(
        await app.gql(
          'mutation ($input: GrantProjectPermissionInput!) { grantProjectPermission(input: $input) { accessLevel } }',
          {
            input: {
              projectRef: options.project.ref,
              serviceAccountId: options.serviceAccount.id,
              accessLevel: options.level,
            },
          },
          options.by.token,
        ),
      );
    },

    /** A card from a test token of the built-in provider (tok_visa unless told); the first one is the default. */
    async paymentMethod(options: {
      organization: TestOrganization;
      by: TestUser;
      token?: string;
      makeDefault?: boolean;
    }): Promise<TestPaymentMethod> {
      const data = ok(
        await app.gql<{ addPaymentMethod: TestPaymentMethod }>(
          'mutation ($input: AddPaymentMethodInput!) { addPaymentMethod(input: $input) { id brand last4 isDefault } }',
          {
            input: {
              organizationSlug: options.organization.slug,
              token: options.token ?? 'tok_visa',
              makeDefault: options.makeDefault ?? false,
            },
          },
          options.by.token,
        ),
      );
      return data.addPaymentMethod;
    },

    /** Moves the organization to `plan`; a paid plan needs a default payment method (see paymentMethod). */
    async changePlan(options: { organization: TestOrganization; by: TestUser; plan: string }): Promise<void> {
      ok(
        await app.gql(
          'mutation ($input: ChangePlanInput!) { changePlan(input: $input) { plan { code } } }',
          { input: { organizationSlug: options.organization.slug, planCode: options.plan } },
          options.by.token,
        ),
      );
    },

    /**
     * Closes the organization's current period as of its end, as `npm run billing:close-periods`
     * does (in this process, and for this organization only).
     */
    async closePeriod(options: { organization: TestOrganization }): Promise<ClosedPeriod> {
      const [subscription] = await app.sql<{ current_period_end: Date }>(
        "SELECT current_period_end FROM subscriptions WHERE organization_id = $1 AND status <> 'canceled'",
        [options.organization.id],
      );
      const { closed, failed } = await closePeriods(app.server.dataSource, {
        now: subscription.current_period_end,
        organizationId: options.organization.id,
      });
      assert.deepEqual(failed, []);
      assert.equal(closed.length, 1);
      return closed[0];
    },
  };
  return api;
}

/** Polls until `check` passes (for state that a background step moves on). */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** The tables an API request can write, read row by row in a stable order. */
const WRITABLE_TABLES = [
  'users',
  'organizations',
  'user_roles',
  'invitations',
  'projects',
  'credentials',
  'permissions',
  'service_accounts',
  'access_keys',
  'subscriptions',
  'payment_methods',
  'invoices',
  'invoice_line_items',
];

/**
 * A table's rows as a snapshot compares them: when a key was last used is a record of reads (written
 * at most once a minute, after the request), not a change any request makes.
 */
export async function rowsOf(app: TestApp, table: string): Promise<unknown[]> {
  // In the order of the first column: the key (audit_chains has no id).
  const rows = await app.sql<Record<string, unknown>>(`SELECT * FROM "${table}" ORDER BY 1`);
  return table === 'access_keys' ? rows.map(({ last_used_at: _used, ...row }) => row) : rows;
}

/** Every row the API can write; equal snapshots before and after mean a request changed nothing. */
export async function snapshot(app: TestApp): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const table of WRITABLE_TABLES) tables[table] = await rowsOf(app, table);
  return tables;
}

/** Runs `attempt` and asserts that it wrote nothing. */
export async function withoutChanges<T>(app: TestApp, attempt: () => Promise<T>): Promise<T> {
  const before = await snapshot(app);
  const result = await attempt();
  assert.deepEqual(await snapshot(app), before, 'a rejected request changes nothing');
  return result;
}

/**
 * Holds a row lock in a transaction of the test's own, so that requests needing the row queue
 * behind it in a known order. `release` rolls the transaction back.
 */
export async function holdRowLock(app: TestApp, table: 'organizations' | 'projects', id: string) {
  const client = new Client({ connectionString: app.databaseUrl });
  await client.connect();
  await client.query('SET search_path = platform');
  await client.query('BEGIN');
  await client.query(`SELECT id FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
  let released = false;
  return {
    /** Rolls back; or, given a statement, runs it and commits: a change that lands while others wait. */
    async release(change?: { sql: string; params: unknown[] }): Promise<void> {
      if (released) return;
      released = true;
      if (change) await client.query(change.sql, change.params);
      await client.query(change ? 'COMMIT' : 'ROLLBACK');
      await client.end();
    },
  };
}

/** How many sessions of the test database are blocked on a lock. */
export async function lockWaiterCount(app: TestApp): Promise<number> {
  const [row] = await app.sql<{ waiting: number }>(
    "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return row.waiting;
}

/** Waits until `count` sessions of the test database are blocked on a lock. */
export async function lockWaiters(app: TestApp, count: number): Promise<void> {
  await eventually(async () => assert.equal(await lockWaiterCount(app), count));
}

/** Waits until the provisioner has brought `project` up, so that no background step writes to it afterwards. */
export async function untilActive(app: TestApp, project: TestProject): Promise<void> {
  await untilStatus(app, project, 'ACTIVE_HEALTHY');
}

/** Waits for the job queue to bring the project to `status`. */
export async function untilStatus(app: TestApp, project: { id: string }, status: string): Promise<void> {
  await eventually(async () => {
    const [row] = await app.sql<{ status: string }>('SELECT status FROM projects WHERE id = $1', [project.id]);
    assert.equal(row?.status, status);
  });
}

/** `npm run jobs:run-scheduled -- --now <asOf>` against the app's database, as an operator runs it; its output. */
export async function runScheduledJobs(
  app: TestApp,
  asOf: Date,
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const script = path.join(__dirname, '..', '..', 'scripts', 'jobs-run-scheduled.js');
  const child = spawn(process.execPath, [script, '--now', asOf.toISOString(), '--timeout-seconds', '60'], {
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: app.databaseUrl, LOG_LEVEL: 'silent', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (exit) => resolve(exit ?? 1)));
  return { code, output };
}

export const DAY_MS = 24 * 3600 * 1000;
