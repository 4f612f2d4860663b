import { SLUG_PATTERN } from '../../entities/organization.entity';
import { PROJECT_REF_PATTERN } from '../../entities/project.entity';
import { LEGACY_COLUMNS, TARGETS, type LegacyMaps, type MapKind } from './legacy-shape';

/** Runs one statement and returns its rows (a TypeORM query runner's `query`). */
export type Sql = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

export interface Refusal {
  problem: string;
  rows: number;
  examples: string[];
  fix?: string;
}

export interface Survey {
  legacyHistory: { name: string; appliedAt: Date }[];
  counts: Record<string, number>;
  /** Each distinct legacy value of a mapped column, what it becomes, and on how many rows. */
  mapped: { kind: MapKind; from: string; to: string; rows: number }[];
  bcryptHashes: number;
  unusablePasswords: number;
  left: { what: string; rows: number | null; why: string }[];
  warnings: string[];
  refusals: Refusal[];
}

export interface SurveyOptions {
  maps: LegacyMaps;
  plans: Record<string, string>;
  lockUnknownPasswords: boolean;
}

/** The password hashes log-in verifies (src/auth/passwords.ts): bcrypt and argon2 PHC strings. */
export const VERIFIABLE_HASH = `^(\\$2[aby]\\$[0-9]{2}\\$[./A-Za-z0-9]{53}|\\$argon2(id|i|d)\\$.+)$`;
const BCRYPT_HASH = `^\\$2[aby]\\$`;

const MAPPED_COLUMNS: { kind: MapKind; table: string; column: string }[] = [
  { kind: 'role', table: 'user_roles', column: 'role' },
  { kind: 'access_level', table: 'permissions', column: 'access_level' },
  { kind: 'status', table: 'projects', column: 'status' },
];

/** Rows that cannot go into the current schema as they are, each with the column that names them. */
const CHECKS: { table: string; problem: string; where: string; name: string }[] = [
  {
    table: 'organizations',
    problem: 'organizations.slug is not lower-case words of letters and digits joined by dashes, 2 to 48 characters',
    where: `slug IS NULL OR slug !~ '${SLUG_PATTERN}' OR char_length(slug) NOT BETWEEN 2 AND 48`,
    name: 'slug',
  },
  {
    table: 'organizations',
    problem: 'organizations.name is empty or longer than 120 characters',
    where: `coalesce(char_length(btrim(name)), 0) NOT BETWEEN 1 AND 120`,
    name: 'slug',
  },
  {
    table: 'organizations',
    problem: 'organizations.billing_email is longer than 320 characters',
    where: `char_length(btrim(billing_email)) > 320`,
    name: 'slug',
  },
  {
    table: 'projects',
    problem: 'projects.ref is not 16 lower-case letters and digits',
    where: `ref IS NULL OR ref !~ '${PROJECT_REF_PATTERN}'`,
    name: 'coalesce(ref, id::text)',
  },
  {
    table: 'projects',
    problem: 'projects.name is empty or longer than 120 characters, or projects.region longer than 32',
    where: `coalesce(char_length(btrim(name)), 0) NOT BETWEEN 1 AND 120 OR coalesce(char_length(btrim(region)), 0) NOT BETWEEN 1 AND 32`,
    name: 'ref',
  },
  {
    table: 'users',
    problem: 'users.email is not an e-mail address of at most 320 characters',
    where: `email IS NULL OR btrim(email) !~ '^[^@\\s]+@[^@\\s]+$' OR char_length(btrim(email)) > 320`,
    name: 'coalesce(email, id::text)',
  },
  {
    table: 'users',
    problem: 'users.display_name is longer than 120 characters',
    where: `char_length(btrim(display_name)) > 120`,
    name: 'email',
  },
];

const DUPLICATES: { problem: string; sql: string; fix: string }[] = [
  {
    problem: 'users share an e-mail address once it is trimmed and lower-cased',
    sql: 'SELECT lower(btrim(email)) AS key FROM platform.users GROUP BY 1 HAVING count(*) > 1',
    fix: 'merge or rename those accounts in the legacy database',
  },
  {
    problem: 'a user has several roles in one organization (user_roles)',
    sql: `SELECT user_id || ' in ' || organization_id AS key FROM platform.user_roles GROUP BY user_id, organization_id HAVING count(*) > 1`,
    fix: 'keep one row per user and organization',
  },
  {
    problem: 'a user has several access levels on one project (permissions)',
    sql: `SELECT user_id || ' on ' || project_id AS key FROM platform.permissions GROUP BY user_id, project_id HAVING count(*) > 1`,
    fix: 'keep one row per user and project',
  },
  {
    problem: 'a project has several rows of credentials',
    sql: 'SELECT project_id::text AS key FROM platform.credentials GROUP BY project_id HAVING count(*) > 1',
    fix: 'keep the row whose keys are in use',
  },
];

async function checkRows(sql: Sql): Promise<Refusal[]> {
  const refusals: Refusal[] = [];
  for (const check of CHECKS) {
    const [found] = await sql<{ rows: number; examples: string[] | null }>(
      `SELECT count(*)::int AS rows, (array_agg(${check.name} ORDER BY ${check.name}))[1:5] AS examples
       FROM platform.${check.table} WHERE ${check.where}`,
    );
    if (found.rows) refusals.push({ problem: check.problem, rows: found.rows, examples: found.examples ?? [] });
  }
  for (const duplicate of DUPLICATES) {
    const [found] = await sql<{ rows: number; examples: string[] | null }>(
      `SELECT count(*)::int AS rows, (array_agg(key ORDER BY key))[1:5] AS examples FROM (${duplicate.sql}) d`,
    );
    if (found.rows) refusals.push({ ...duplicate, rows: found.rows, examples: found.examples ?? [] });
  }
  return refusals;
}

async function mappings(sql: Sql, maps: LegacyMaps): Promise<{ mapped: Survey['mapped']; refusals: Refusal[] }> {
  const mapped: Survey['mapped'] = [];
  const refusals: Refusal[] = [];
  for (const { kind, table, column } of MAPPED_COLUMNS) {
    const values = await sql<{ value: string | null; rows: number }>(
      `SELECT lower(btrim(${column})) AS value, count(*)::int AS rows FROM platform.${table} GROUP BY 1 ORDER BY 1`,
    );
    for (const { value, rows } of values) {
      const to = value === null ? undefined : maps[kind][value];
      if (to) mapped.push({ kind, from: value as string, to, rows });
      else {
        refusals.push({
          problem: `${table}.${column} ${value === null ? 'is NULL' : `'${value}' has no counterpart`}`,
          rows,
          examples: [],
          fix: `--map ${kind}:${value ?? '<value>'}=${TARGETS[kind].join('|')}`,
        });
      }
    }
  }
  return { mapped, refusals };
}

async function passwords(sql: Sql, lockUnknown: boolean) {
  const [found] = await sql<{ bcrypt: number; unusable: number; examples: string[] | null }>(
    `SELECT count(*) FILTER (WHERE hashed_password ~ $1)::int AS bcrypt,
            count(*) FILTER (WHERE hashed_password IS NULL OR hashed_password !~ $2)::int AS unusable,
            (array_agg(email ORDER BY email) FILTER (WHERE hashed_password IS NULL OR hashed_password !~ $2))[1:5] AS examples
     FROM platform.users`,
    [BCRYPT_HASH, VERIFIABLE_HASH],
  );
  const refusal: Refusal | undefined =
    found.unusable && !lockUnknown
      ? {
          problem: 'users.hashed_password is empty or not a bcrypt or argon2 hash, so those users could never log in',
          rows: found.unusable,
          examples: found.examples ?? [],
          fix: '--lock-unknown-passwords (those accounts are copied, and cannot log in until their password is reset)',
        }
      : undefined;
  return { bcrypt: found.bcrypt, unusable: found.unusable, refusal };
}

async function leftBehind(sql: Sql): Promise<Survey['left']> {
  const columns = await sql<{ table_name: string; column_name: string; is_table: boolean }>(
    `SELECT c.table_name, c.column_name, t.table_type = 'BASE TABLE' AS is_table
     FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
     WHERE c.table_schema = 'platform' ORDER BY c.table_name, c.ordinal_position`,
  );
  const known = LEGACY_COLUMNS as Record<string, readonly string[]>;
  const left: Survey['left'] = [];
  for (const table of [...new Set(columns.map((c) => c.table_name))]) {
    if (table === 'schema_migrations') {
      left.push({
        what: 'schema_migrations',
        rows: await count(sql, table),
        why: 'the legacy migration history, kept',
      });
    } else if (!known[table]) {
      left.push({ what: table, rows: await count(sql, table), why: 'a table whose shape adoption does not know' });
    }
  }
  const extra = (c: (typeof columns)[number]) =>
    c.table_name !== 'schema_migrations' && known[c.table_name] && !known[c.table_name].includes(c.column_name);
  for (const column of columns.filter(extra)) {
    left.push({ what: `${column.table_name}.${column.column_name}`, rows: null, why: 'a column not copied' });
  }
  return left;
}

async function count(sql: Sql, table: string): Promise<number> {
  const [row] = await sql<{ rows: number }>(`SELECT count(*)::int AS rows FROM platform."${table}"`);
  return row.rows;
}

async function warnings(sql: Sql, maps: LegacyMaps, plans: Record<string, string>): Promise<string[]> {
  const owners = Object.entries(maps.role)
    .filter(([, to]) => to === 'owner')
    .map(([from]) => from);
  const [found] = await sql<{ ownerless: string[] | null; keyless: string[] | null; unknown: string[] | null }>(
    `SELECT
       (SELECT array_agg(slug ORDER BY slug) FROM platform.organizations o WHERE NOT EXISTS (
          SELECT 1 FROM platform.user_roles r WHERE r.organization_id = o.id AND lower(btrim(r.role)) = ANY($1))) AS ownerless,
       (SELECT array_agg(ref ORDER BY ref) FROM platform.projects p WHERE NOT EXISTS (
          SELECT 1 FROM platform.credentials c WHERE c.project_id = p.id)) AS keyless,
       (SELECT array_agg(wanted.slug ORDER BY wanted.slug) FROM unnest($2::text[]) AS wanted(slug) WHERE NOT EXISTS (
          SELECT 1 FROM platform.organizations o WHERE o.slug = wanted.slug)) AS unknown`,
    [owners, Object.keys(plans)],
  );
  return [
    ...(found.ownerless ?? []).map((slug) => `organization ${slug} has no owner: only a database change can add one`),
    ...(found.keyless ?? []).map((ref) => `project ${ref} has no credentials: rotate its keys after adoption`),
    ...(found.unknown ?? []).map((slug) => `--plan ${slug}=…: there is no organization ${slug}; ignored`),
  ];
}

/**
 * What adoption would copy, map, leave and refuse, read from the legacy `platform` schema and
 * changing nothing. Adoption runs only when `refusals` is empty.
 */
export async function survey(sql: Sql, options: SurveyOptions): Promise<Survey> {
  const counts: Record<string, number> = {};
  for (const table of Object.keys(LEGACY_COLUMNS)) counts[table] = await count(sql, table);
  const { mapped, refusals } = await mappings(sql, options.maps);
  const hashes = await passwords(sql, options.lockUnknownPasswords);
  const history = await sql<{ name: string; applied_at: Date }>(
    'SELECT migration_name AS name, applied_at FROM platform.schema_migrations ORDER BY applied_at, migration_name',
  );
  return {
    legacyHistory: history.map((row) => ({ name: row.name, appliedAt: row.applied_at })),
    counts,
    mapped,
    bcryptHashes: hashes.bcrypt,
    unusablePasswords: hashes.unusable,
    left: await leftBehind(sql),
    warnings: await warnings(sql, options.maps, options.plans),
    refusals: [...(await checkRows(sql)), ...refusals, ...(hashes.refusal ? [hashes.refusal] : [])],
  };
}
