import { open, seal } from '../../crypto/secret-box';
import { LEGACY_SCHEMA, type LegacyMaps } from './legacy-shape';
import { VERIFIABLE_HASH, type Sql } from './survey';

const L = LEGACY_SCHEMA;

/** A hash that verifies no password (src/auth/passwords.ts answers false): the account waits for a reset. */
export const LOCKED_PASSWORD = '!locked: legacy hash of an unknown kind';

export interface CopyOptions {
  maps: LegacyMaps;
  plans: Record<string, string>;
  encryptionKey: Buffer;
}

/** Rows copied into each current table, in the order they were copied. */
export type Copied = { table: string; rows: number }[];

const CREDENTIALS_BATCH = 500;

async function insert(sql: Sql, statement: string, params: unknown[] = []): Promise<number> {
  const rows = await sql<{ rows: number }>(
    `WITH copied AS (${statement} RETURNING 1) SELECT count(*)::int AS rows FROM copied`,
    params,
  );
  return rows[0].rows;
}

function organizations(sql: Sql) {
  return insert(
    sql,
    `INSERT INTO platform.organizations (id, name, slug, billing_email, created_at, updated_at)
     SELECT id, btrim(name), slug, nullif(btrim(billing_email), ''), created_at, coalesce(updated_at, created_at)
     FROM ${L}.organizations`,
  );
}

function projects(sql: Sql, maps: LegacyMaps) {
  return insert(
    sql,
    `INSERT INTO platform.projects (id, name, ref, organization_id, region, status, created_at, updated_at)
     SELECT id, btrim(name), ref, organization_id, btrim(region), $1::jsonb ->> lower(btrim(status)),
            created_at, coalesce(updated_at, created_at)
     FROM ${L}.projects`,
    [JSON.stringify(maps.status)],
  );
}

/** The two secrets are sealed with ENCRYPTION_KEY (AES-256-GCM envelopes); the anon key is public and stays plain. */
async function credentials(sql: Sql, key: Buffer): Promise<number> {
  const rows = await sql<Record<string, unknown> & { service_role_key: string; jwt_secret: string }>(
    `SELECT id, project_id, anon_key, service_role_key, jwt_secret, created_at, coalesce(updated_at, created_at) AS updated_at
     FROM ${L}.credentials ORDER BY id`,
  );
  let copied = 0;
  for (let start = 0; start < rows.length; start += CREDENTIALS_BATCH) {
    const batch = rows.slice(start, start + CREDENTIALS_BATCH);
    const column = (name: string) => batch.map((row) => row[name]);
    copied += await insert(
      sql,
      `INSERT INTO platform.credentials (id, project_id, anon_key, service_role_key, jwt_secret, created_at, updated_at)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])`,
      [
        column('id'),
        column('project_id'),
        column('anon_key'),
        batch.map((row) => seal(key, row.service_role_key)),
        batch.map((row) => seal(key, row.jwt_secret)),
        column('created_at'),
        column('updated_at'),
      ],
    );
  }
  return copied;
}

/** E-mails trimmed and lower-cased; a missing display name becomes the e-mail's local part; hashes kept as they are. */
function users(sql: Sql) {
  return insert(
    sql,
    `INSERT INTO platform.users (id, email, hashed_password, display_name, last_login_at, created_at, updated_at)
     SELECT id, lower(btrim(email)),
            CASE WHEN hashed_password ~ $1 THEN hashed_password ELSE $2 END,
            coalesce(nullif(btrim(display_name), ''), split_part(lower(btrim(email)), '@', 1)),
            last_login_at, created_at, created_at
     FROM ${L}.users`,
    [VERIFIABLE_HASH, LOCKED_PASSWORD],
  );
}

function memberships(sql: Sql, maps: LegacyMaps) {
  return insert(
    sql,
    `INSERT INTO platform.user_roles (id, user_id, organization_id, role, created_at, updated_at)
     SELECT id, user_id, organization_id, $1::jsonb ->> lower(btrim(role)), created_at, created_at FROM ${L}.user_roles`,
    [JSON.stringify(maps.role)],
  );
}

function grants(sql: Sql, maps: LegacyMaps) {
  return insert(
    sql,
    `INSERT INTO platform.permissions (id, user_id, project_id, access_level, created_at, updated_at)
     SELECT id, user_id, project_id, $1::jsonb ->> lower(btrim(access_level)), granted_at, granted_at
     FROM ${L}.permissions`,
    [JSON.stringify(maps.access_level)],
  );
}

/**
 * Every organization starts a billing period now, on the free plan or the one `--plan slug=code` names, ending
 * at the start of next month (UTC), as a new organization's does (src/billing/periods.ts).
 */
async function subscriptions(sql: Sql, plans: Record<string, string>): Promise<number> {
  const unknown = await sql<{ code: string }>(
    'SELECT code FROM unnest($1::text[]) AS wanted(code) WHERE NOT EXISTS (SELECT 1 FROM platform.plans p WHERE p.code = wanted.code)',
    [Object.values(plans)],
  );
  if (unknown.length) throw new Error(`--plan names plans that do not exist: ${unknown.map((r) => r.code).join(', ')}`);
  return insert(
    sql,
    `INSERT INTO platform.subscriptions (organization_id, plan_id, status, current_period_start, current_period_end)
     SELECT o.id, p.id, 'active', now(), (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
     FROM platform.organizations o JOIN platform.plans p ON p.code = coalesce($1::jsonb ->> o.slug, 'free')`,
    [JSON.stringify(plans)],
  );
}

/** Copies the legacy rows into the current schema, which the migrations have just built. */
export async function copyLegacyRows(sql: Sql, options: CopyOptions): Promise<Copied> {
  return [
    { table: 'organizations', rows: await organizations(sql) },
    { table: 'projects', rows: await projects(sql, options.maps) },
    { table: 'credentials', rows: await credentials(sql, options.encryptionKey) },
    { table: 'users', rows: await users(sql) },
    { table: 'user_roles', rows: await memberships(sql, options.maps) },
    { table: 'permissions', rows: await grants(sql, options.maps) },
    { table: 'subscriptions', rows: await subscriptions(sql, options.plans) },
  ];
}

/**
 * Checks the copy against the legacy rows before anything commits: the same number of rows in
 * each table, the same ids, refs and password hashes, and every sealed secret opening, with the
 * key, to the legacy plain text. A difference throws, and the whole adoption rolls back.
 */
export async function verifyCopy(sql: Sql, key: Buffer): Promise<string[]> {
  const [same] = await sql<Record<string, boolean>>(
    `SELECT
       (SELECT count(*) FROM platform.organizations o JOIN ${L}.organizations l USING (id, slug)) = (SELECT count(*) FROM ${L}.organizations) AS organizations,
       (SELECT count(*) FROM platform.projects p JOIN ${L}.projects l USING (id, ref, organization_id)) = (SELECT count(*) FROM ${L}.projects) AS projects,
       (SELECT count(*) FROM platform.users u JOIN ${L}.users l ON l.id = u.id AND (u.hashed_password = l.hashed_password OR u.hashed_password = $1)) = (SELECT count(*) FROM ${L}.users) AS users,
       (SELECT count(*) FROM platform.user_roles r JOIN ${L}.user_roles l USING (id, user_id, organization_id)) = (SELECT count(*) FROM ${L}.user_roles) AS user_roles,
       (SELECT count(*) FROM platform.permissions p JOIN ${L}.permissions l USING (id, user_id, project_id)) = (SELECT count(*) FROM ${L}.permissions) AS permissions,
       (SELECT count(*) FROM platform.subscriptions) = (SELECT count(*) FROM platform.organizations) AS subscriptions`,
    [LOCKED_PASSWORD],
  );
  const wrong = Object.entries(same)
    .filter(([, ok]) => !ok)
    .map(([table]) => table);
  const secrets = await sql<Record<'service' | 'jwt' | 'legacy_service' | 'legacy_jwt', string>>(
    `SELECT c.service_role_key AS service, c.jwt_secret AS jwt, l.service_role_key AS legacy_service, l.jwt_secret AS legacy_jwt
     FROM platform.credentials c JOIN ${L}.credentials l USING (id, project_id, anon_key)`,
  );
  const [legacy] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM ${L}.credentials`);
  const opened = secrets.filter(
    (row) => open(key, row.service) === row.legacy_service && open(key, row.jwt) === row.legacy_jwt,
  );
  if (opened.length !== legacy.rows) wrong.push('credentials');
  if (wrong.length)
    throw new Error(`The copy does not match the legacy rows in: ${wrong.join(', ')}; nothing was changed`);
  return Object.keys(same).concat('credentials');
}
