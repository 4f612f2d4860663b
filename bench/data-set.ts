import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Client } from 'pg';
import { PROJECT_KEY_ISSUER } from '../src/crypto/project-keys';
import { seal } from '../src/crypto/secret-box';

/** The size of the data set; the same on every run. */
export const DATA_SET = {
  organizations: 20,
  projectsPerOrganization: 5,
  /** Members of each organization besides the benchmark user. */
  otherMembersPerOrganization: 4,
  otherUsers: 40,
  /** Of the benchmark user's organizations, in order: owner, then admin, member, viewer. */
  roles: { owner: 10, admin: 6, member: 2, viewer: 2 },
  /** Projects a member or viewer is granted (the others stay invisible to them). */
  grantedProjects: 3,
} as const;

/** The smaller data set of a second user, to check that statement counts do not grow with the data. */
export const SMALL_DATA_SET = { organizations: 2, projectsPerOrganization: 2, otherMembersPerOrganization: 1 } as const;

const REGIONS = ['eu-west-1', 'us-east-1', 'eu-central-1', 'ap-southeast-1', 'us-west-1'];
/** A fixed start for created_at, so that every run orders rows the same way. */
const EPOCH = Date.parse('2025-01-01T00:00:00.000Z');
const KEYS_ISSUED_AT = Math.floor(EPOCH / 1000);
const KEY_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

export interface BenchUser {
  id: string;
  email: string;
  password: string;
}

export interface LoadedDataSet {
  /** Projects in organizations where the benchmark user is owner or admin: it may rename them and read their secrets. */
  adminProjectRefs: string[];
  /** Organizations where the benchmark user is owner or admin. */
  adminOrganizationSlugs: string[];
  /** The same for the small user. */
  small: { organizationSlug: string; projectRef: string };
  rows: Record<string, number>;
}

/** A stable uuid for a label: the same data set gets the same ids on every run. */
export function stableUuid(label: string): string {
  const hex = createHash('sha256').update(`platform-bench:${label}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function stableRef(label: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = createHash('sha256').update(`platform-bench-ref:${label}`).digest();
  return Array.from(bytes.subarray(0, 16), (byte) => alphabet[byte % alphabet.length]).join('');
}

function at(sequence: number): Date {
  return new Date(EPOCH + sequence * 1000);
}

/** Keys as the API makes them (HS256, signed with the project's secret), from a secret derived from the ref. */
async function projectKeys(ref: string): Promise<{ jwtSecret: string; anonKey: string; serviceRoleKey: string }> {
  const jwtSecret = createHash('sha512').update(`platform-bench-secret:${ref}`).digest().subarray(0, 48);
  const sign = (role: string) =>
    new SignJWT({ role, ref })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(PROJECT_KEY_ISSUER)
      .setIssuedAt(KEYS_ISSUED_AT)
      .setExpirationTime(KEYS_ISSUED_AT + KEY_LIFETIME_SECONDS)
      .sign(jwtSecret);
  return {
    jwtSecret: jwtSecret.toString('base64url'),
    anonKey: await sign('anon'),
    serviceRoleKey: await sign('service_role'),
  };
}

type Role = 'owner' | 'admin' | 'member' | 'viewer';

class Rows {
  users: unknown[][] = [];
  organizations: unknown[][] = [];
  userRoles: unknown[][] = [];
  projects: unknown[][] = [];
  credentials: unknown[][] = [];
  permissions: unknown[][] = [];
  subscriptions: unknown[][] = [];
  private sequence = 0;

  next(): Date {
    this.sequence += 1;
    return at(this.sequence);
  }
}

async function insert(client: Client, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const values = chunk.map((row, r) => `(${row.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
    await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, chunk.flat());
  }
}

interface OrganizationPlan {
  label: string;
  name: string;
  slug: string;
  projects: number;
  /** [user id, role, projects granted (member/viewer only)] */
  members: [string, Role, number][];
}

/**
 * The benchmark data set, written with SQL in one transaction. The two users who sign in
 * (the benchmark user and the small user) were signed up through the API beforehand, so their
 * password hashes are real; the other members never sign in and share one real hash.
 */
export async function loadDataSet(
  client: Client,
  options: { benchUser: BenchUser; smallUser: BenchUser; memberPasswordHash: string; encryptionKey: Buffer },
): Promise<LoadedDataSet> {
  const rows = new Rows();
  const otherUsers: string[] = [];
  for (let u = 0; u < DATA_SET.otherUsers; u += 1) {
    const id = stableUuid(`user-${u}`);
    otherUsers.push(id);
    const created = rows.next();
    rows.users.push([id, created, created, `member${u}@bench.example`, options.memberPasswordHash, `Member ${u}`]);
  }

  const { owner, admin, member } = DATA_SET.roles;
  const benchRole = (o: number): Role =>
    o < owner ? 'owner' : o < owner + admin ? 'admin' : o < owner + admin + member ? 'member' : 'viewer';
  const otherRoles: Role[] = ['admin', 'member', 'viewer', 'member'];
  const plans: OrganizationPlan[] = [];
  for (let o = 0; o < DATA_SET.organizations; o += 1) {
    const role = benchRole(o);
    const members: [string, Role, number][] = [[options.benchUser.id, role, DATA_SET.grantedProjects]];
    for (let k = 0; k < DATA_SET.otherMembersPerOrganization; k += 1) {
      // Someone else owns the organizations the benchmark user does not.
      const otherRole = k === 0 && role !== 'owner' ? 'owner' : otherRoles[k];
      members.push([otherUsers[(o * DATA_SET.otherMembersPerOrganization + k) % otherUsers.length], otherRole, 2]);
    }
    const number = String(o + 1).padStart(2, '0');
    plans.push({
      label: `org-${o}`,
      name: `Organization ${number}`,
      slug: `bench-org-${number}`,
      projects: DATA_SET.projectsPerOrganization,
      members,
    });
  }
  for (let o = 0; o < SMALL_DATA_SET.organizations; o += 1) {
    const members: [string, Role, number][] = [[options.smallUser.id, 'owner', 0]];
    for (let k = 0; k < SMALL_DATA_SET.otherMembersPerOrganization; k += 1) members.push([otherUsers[k], 'member', 1]);
    plans.push({
      label: `small-org-${o}`,
      name: `Small Organization ${o + 1}`,
      slug: `bench-small-org-${o + 1}`,
      projects: SMALL_DATA_SET.projectsPerOrganization,
      members,
    });
  }

  const adminProjectRefs: string[] = [];
  const adminOrganizationSlugs: string[] = [];
  let small: LoadedDataSet['small'] | undefined;
  for (const plan of plans) {
    const organizationId = stableUuid(plan.label);
    const created = rows.next();
    rows.organizations.push([organizationId, created, created, plan.name, plan.slug, `billing@${plan.slug}.example`]);
    rows.subscriptions.push([
      stableUuid(`${plan.label}-subscription`),
      organizationId,
      'team',
      created,
      new Date(created.getTime() + 30 * 24 * 3600 * 1000),
    ]);
    const projectIds: string[] = [];
    const projectRefs: string[] = [];
    for (let p = 0; p < plan.projects; p += 1) {
      const id = stableUuid(`${plan.label}-project-${p}`);
      const ref = stableRef(`${plan.label}-project-${p}`);
      const projectCreated = rows.next();
      projectIds.push(id);
      projectRefs.push(ref);
      rows.projects.push([
        id,
        projectCreated,
        projectCreated,
        `Project ${plan.slug.replace('bench-', '')}-${p + 1}`,
        ref,
        organizationId,
        REGIONS[p % REGIONS.length],
        'ACTIVE_HEALTHY',
      ]);
      const keys = await projectKeys(ref);
      rows.credentials.push([
        stableUuid(`${plan.label}-credential-${p}`),
        projectCreated,
        projectCreated,
        id,
        keys.anonKey,
        seal(options.encryptionKey, keys.serviceRoleKey),
        seal(options.encryptionKey, keys.jwtSecret),
      ]);
    }
    for (const [userId, role, granted] of plan.members) {
      const joined = rows.next();
      rows.userRoles.push([stableUuid(`${plan.label}-role-${userId}`), joined, joined, userId, organizationId, role]);
      // Owners and admins see every project; members and viewers only those granted to them.
      if (role === 'member' || role === 'viewer') {
        for (let p = 0; p < Math.min(granted, projectIds.length); p += 1) {
          rows.permissions.push([
            stableUuid(`${plan.label}-grant-${userId}-${p}`),
            joined,
            joined,
            userId,
            projectIds[p],
            role === 'viewer' ? 'read' : 'write',
          ]);
        }
      }
    }
    const benchRow = plan.members[0];
    if (benchRow[0] === options.benchUser.id && (benchRow[1] === 'owner' || benchRow[1] === 'admin')) {
      adminOrganizationSlugs.push(plan.slug);
      adminProjectRefs.push(...projectRefs);
    }
    if (benchRow[0] === options.smallUser.id && !small) {
      small = { organizationSlug: plan.slug, projectRef: projectRefs[0] };
    }
  }

  await client.query('BEGIN');
  try {
    await insert(
      client,
      'users',
      ['id', 'created_at', 'updated_at', 'email', 'hashed_password', 'display_name'],
      rows.users,
    );
    await insert(
      client,
      'organizations',
      ['id', 'created_at', 'updated_at', 'name', 'slug', 'billing_email'],
      rows.organizations,
    );
    await client.query(
      `INSERT INTO platform.subscriptions (id, organization_id, plan_id, status, current_period_start, current_period_end)
       SELECT s.id::uuid, s.organization_id::uuid, p.id, 'active', s.starts::timestamptz, s.ends::timestamptz
       FROM json_to_recordset($1::json) AS s(id text, organization_id text, plan text, starts text, ends text)
       JOIN platform.plans p ON p.code = s.plan`,
      [
        JSON.stringify(
          rows.subscriptions.map(([id, organizationId, plan, starts, ends]) => ({
            id,
            organization_id: organizationId,
            plan,
            starts,
            ends,
          })),
        ),
      ],
    );
    await insert(
      client,
      'projects',
      ['id', 'created_at', 'updated_at', 'name', 'ref', 'organization_id', 'region', 'status'],
      rows.projects,
    );
    await insert(
      client,
      'credentials',
      ['id', 'created_at', 'updated_at', 'project_id', 'anon_key', 'service_role_key', 'jwt_secret'],
      rows.credentials,
    );
    await insert(
      client,
      'user_roles',
      ['id', 'created_at', 'updated_at', 'user_id', 'organization_id', 'role'],
      rows.userRoles,
    );
    await insert(
      client,
      'permissions',
      ['id', 'created_at', 'updated_at', 'user_id', 'project_id', 'access_level'],
      rows.permissions,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
  await client.query('ANALYZE');
  if (!small) throw new Error('the small data set has no organization');
  return {
    adminProjectRefs,
    adminOrganizationSlugs,
    small,
    rows: {
      users: rows.users.length + 2,
      organizations: rows.organizations.length,
      projects: rows.projects.length,
      credentials: rows.credentials.length,
      user_roles: rows.userRoles.length,
      permissions: rows.permissions.length,
    },
  };
}

/** The original project names, to undo the mutation workload before the next reads. */
export async function projectNames(client: Client): Promise<Map<string, string>> {
  const { rows } = await client.query<{ ref: string; name: string }>('SELECT ref, name FROM platform.projects');
  return new Map(rows.map((row) => [row.ref, row.name]));
}

export async function restoreProjectNames(client: Client, names: Map<string, string>): Promise<void> {
  await client.query(
    `UPDATE platform.projects p SET name = n.name FROM json_to_recordset($1::json) AS n(ref text, name text) WHERE p.ref = n.ref`,
    [JSON.stringify([...names].map(([ref, name]) => ({ ref, name })))],
  );
}
