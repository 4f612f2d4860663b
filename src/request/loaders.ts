import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { Credential } from '../entities/credential.entity';
import { Organization } from '../entities/organization.entity';
import { ProjectGrant, type AccessLevel } from '../entities/project-grant.entity';
import { type Project } from '../entities/project.entity';
import { UserRole, type OrganizationRole } from '../entities/user-role.entity';
import { User } from '../entities/user.entity';
import { projectFromRow } from '../database/project-row';
import { leanQuery } from '../database/request-database';
import {
  detailColumns,
  primeDetails,
  type DetailTargets,
  type OrganizationDetails,
} from '../repositories/organization-details';
import {
  loadProjectPages,
  projectPageCacheKey,
  type ProjectPageKey,
  type ProjectPageRows,
} from '../database/project-pages';
import { hydrate } from '../database/hydrate';

type Row = Record<string, unknown>;

function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): (V | null)[] {
  const map = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => map.get(key) ?? null);
}

/**
 * `column = $n` for a batch of one key, `column = ANY($n)` for more; the key or keys are
 * appended to `params`. Reads are planned once per connection, generically, and a generic plan
 * takes an array for ten elements: over small tables it then hashes whole tables where one key
 * is a unique-index lookup. Nearly every batch of a request holds one key.
 */
function matching(column: string, keys: readonly unknown[], params: unknown[]): string {
  return keys.length === 1 ? `${column} = $${params.push(keys[0])}` : `${column} = ANY($${params.push(keys)})`;
}

function groupBy<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const map = new Map<K, V[]>(keys.map((key) => [key, []]));
  for (const row of rows) map.get(keyOf(row))?.push(row);
  return keys.map((key) => map.get(key) ?? []);
}

function toOrganization(r: Row): Organization {
  return hydrate(Organization, {
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    name: r.name,
    slug: r.slug,
    billingEmail: r.billing_email,
    paymentCustomerRef: r.payment_customer_ref,
    taxId: r.tax_id,
    billingAddress: r.billing_address,
    lastInvoiceNumber: r.last_invoice_number,
  });
}

function toUser(r: Row, prefix = ''): User {
  return hydrate(User, {
    id: r[`${prefix}id`],
    createdAt: r[`${prefix}created_at`],
    updatedAt: r[`${prefix}updated_at`],
    email: r[`${prefix}email`],
    displayName: r[`${prefix}display_name`],
    lastLoginAt: r[`${prefix}last_login_at`],
  });
}

function toCredential(r: Row): Credential {
  return hydrate(Credential, {
    id: r.id,
    projectId: r.project_id,
    anonKey: r.anon_key,
    serviceRoleKey: r.service_role_key,
    jwtSecret: r.jwt_secret,
  });
}

const ORGANIZATION = `o.id, o.created_at, o.updated_at, o.name, o.slug, o.billing_email, o.payment_customer_ref,
  o.tax_id, o.billing_address, o.last_invoice_number`;
const PROJECT = 'p.id, p.created_at, p.updated_at, p.name, p.ref, p.organization_id, p.region, p.status';
const USER = 'u.id, u.created_at, u.updated_at, u.email, u.display_name, u.last_login_at';

/**
 * Per-request batching and caching over lean SQL (selected columns, raw rows): each relation
 * costs one statement per request level, and a resource is read together with the caller's
 * role (and grant) on it, which prime the role and grant loaders.
 */
export function createLoaders(db: DataSource, viewerId: string | null) {
  const query = (sql: string, params: unknown[]) => leanQuery<Row>(db, sql, params);

  /** Details the query asks for, by `column:key`, registered before the organization is loaded. */
  const wantedDetails = new Map<string, OrganizationDetails>();
  const detailTargets: DetailTargets = {
    primeMembers(organizationId, roles, users) {
      for (const user of users) loaders.userById.prime(user.id, user);
      loaders.membersByOrganization.prime(organizationId, roles);
    },
    primeProjectPage(key, page) {
      loaders.projectPages.prime(key, page);
    },
  };

  const organizationRows = async (
    column: 'id' | 'slug',
    keys: readonly string[],
    details: OrganizationDetails | null,
  ) => {
    const params: unknown[] = [viewerId];
    const where = matching(`o.${column}`, keys, params);
    const extra = details ? detailColumns(details, 'o.id', 'r.role', '$1', params) : '';
    const rows = await query(
      `SELECT ${ORGANIZATION}, r.role AS viewer_role${extra} FROM organizations o
       LEFT JOIN user_roles r ON r.organization_id = o.id AND r.user_id = $1
       WHERE ${where}`,
      params,
    );
    return rows.map((row) => loaders.organizationFromRow(row, details));
  };

  /** One statement per kind of details asked (nearly always one in all). */
  const organizations = async (column: 'id' | 'slug', keys: readonly string[]) => {
    const groups = new Map<string, { details: OrganizationDetails | null; keys: string[] }>();
    for (const key of keys) {
      const details = wantedDetails.get(`${column}:${key}`) ?? null;
      const shape = details ? JSON.stringify(details) : '';
      const group = groups.get(shape) ?? { details, keys: [] };
      group.keys.push(key);
      groups.set(shape, group);
    }
    const found: Organization[] = [];
    for (const group of groups.values()) found.push(...(await organizationRows(column, group.keys, group.details)));
    return byKey(keys, found, (o) => (column === 'id' ? o.id : o.slug));
  };

  // A project is read with its credentials (one row each), still encrypted: a project page
  // nearly always asks for its keys next, and this saves that round trip.
  const projects = async (column: 'id' | 'ref', keys: readonly string[]) => {
    const params: unknown[] = [viewerId];
    const rows = await query(
      `SELECT ${PROJECT}, r.role AS viewer_role, g.access_level AS viewer_grant,
              c.id AS credential_id, c.anon_key, c.service_role_key, c.jwt_secret
       FROM projects p
       LEFT JOIN user_roles r ON r.organization_id = p.organization_id AND r.user_id = $1
       LEFT JOIN permissions g ON g.project_id = p.id AND g.user_id = $1
       LEFT JOIN credentials c ON c.project_id = p.id
       WHERE ${matching(`p.${column}`, keys, params)}`,
      params,
    );
    const found = rows.map((row) => {
      const project = projectFromRow(row);
      loaders.projectById.prime(project.id, project);
      loaders.projectByRef.prime(project.ref, project);
      loaders.myRole.prime(project.organizationId, (row.viewer_role as OrganizationRole | null) ?? null);
      loaders.myGrant.prime(project.id, (row.viewer_grant as AccessLevel | null) ?? null);
      loaders.credentialByProject.prime(
        project.id,
        row.credential_id === null ? null : toCredential({ ...row, id: row.credential_id, project_id: project.id }),
      );
      return project;
    });
    return byKey(keys, found, (p) => (column === 'id' ? p.id : p.ref));
  };

  /** The caller's access to each resource, looked up once: every guarded field of it asks again. */
  const decided = new Map<string, Promise<unknown>>();
  const remember = <T>(key: string, find: () => Promise<T>): Promise<T> => {
    let found = decided.get(key) as Promise<T> | undefined;
    if (!found) decided.set(key, (found = find()));
    return found;
  };

  const loaders = {
    organizationById: new DataLoader<string, Organization | null>((ids) => organizations('id', ids)),
    organizationBySlug: new DataLoader<string, Organization | null>((slugs) => organizations('slug', slugs)),
    projectById: new DataLoader<string, Project | null>((ids) => projects('id', ids)),
    projectByRef: new DataLoader<string, Project | null>((refs) => projects('ref', refs)),
    userById: new DataLoader<string, User | null>(async (ids) => {
      const params: unknown[] = [];
      const rows = await query(`SELECT ${USER} FROM users u WHERE ${matching('u.id', ids, params)}`, params);
      return byKey(
        ids,
        rows.map((r) => toUser(r)),
        (u) => u.id,
      );
    }),
    /** The caller's role in each organization (null: not a member). */
    myRole: new DataLoader<string, OrganizationRole | null>(async (organizationIds) => {
      if (!viewerId) return organizationIds.map(() => null);
      const params: unknown[] = [viewerId];
      const rows = await query(
        `SELECT organization_id, role FROM user_roles
         WHERE user_id = $1 AND ${matching('organization_id', organizationIds, params)}`,
        params,
      );
      return byKey(organizationIds, rows, (r) => r.organization_id as string).map(
        (r) => (r?.role as OrganizationRole) ?? null,
      );
    }),
    /** The caller's grant on each project (null: no grant). */
    myGrant: new DataLoader<string, AccessLevel | null>(async (projectIds) => {
      if (!viewerId) return projectIds.map(() => null);
      const params: unknown[] = [viewerId];
      const rows = await query(
        `SELECT project_id, access_level FROM permissions
         WHERE user_id = $1 AND ${matching('project_id', projectIds, params)}`,
        params,
      );
      return byKey(projectIds, rows, (r) => r.project_id as string).map(
        (r) => (r?.access_level as AccessLevel) ?? null,
      );
    }),
    /** Members with their users, in one statement; the users prime userById. */
    membersByOrganization: new DataLoader<string, UserRole[]>(async (organizationIds) => {
      const params: unknown[] = [];
      const rows = await query(
        `SELECT r.id AS role_id, r.organization_id, r.user_id, r.role, ${USER.replace(/u\.(\w+)/g, 'u.$1 AS user_$1')}
         FROM user_roles r JOIN users u ON u.id = r.user_id
         WHERE ${matching('r.organization_id', organizationIds, params)} ORDER BY r.created_at, r.id`,
        params,
      );
      const roles = rows.map((row) => {
        const user = toUser(row, 'user_');
        loaders.userById.prime(user.id, user);
        return hydrate(UserRole, {
          id: row.role_id,
          organizationId: row.organization_id,
          userId: row.user_id,
          role: row.role,
        });
      });
      return groupBy(organizationIds, roles, (r) => r.organizationId);
    }),
    permissionsByProject: new DataLoader<string, ProjectGrant[]>(async (projectIds) => {
      const params: unknown[] = [];
      const rows = await query(
        `SELECT id, created_at, updated_at, user_id, project_id, access_level FROM permissions
         WHERE ${matching('project_id', projectIds, params)} ORDER BY created_at, id`,
        params,
      );
      const grants = rows.map((r) =>
        hydrate(ProjectGrant, {
          id: r.id,
          createdAt: r.created_at,
          updatedAt: r.updated_at,
          userId: r.user_id,
          projectId: r.project_id,
          accessLevel: r.access_level,
        }),
      );
      return groupBy(projectIds, grants, (r) => r.projectId);
    }),
    projectPages: new DataLoader<ProjectPageKey, ProjectPageRows, string>(
      (keys) =>
        viewerId
          ? loadProjectPages(db, viewerId, keys)
          : Promise.resolve(keys.map(() => ({ rows: [], totalCount: 0 }))),
      { cacheKeyFn: projectPageCacheKey },
    ),
    /** The whole row, secret columns included: they are decrypted only by the fields that check the permission. */
    credentialByProject: new DataLoader<string, Credential | null>(async (projectIds) => {
      const params: unknown[] = [];
      const rows = await query(
        `SELECT id, project_id, anon_key, service_role_key, jwt_secret FROM credentials
         WHERE ${matching('project_id', projectIds, params)}`,
        params,
      );
      return byKey(projectIds, rows.map(toCredential), (c) => c.projectId);
    }),
    /**
     * An organization and the caller's role in it (null: absent, or the caller is no member),
     * read once per request; `details` are what the query reads with it, in the same statement.
     */
    organizationAccess(
      locator: { id: string } | { slug: string },
      details: OrganizationDetails | null = null,
    ): Promise<{ organization: Organization; role: OrganizationRole } | null> {
      const key = 'id' in locator ? `o:id:${locator.id}` : `o:slug:${locator.slug}`;
      return remember(key, async () => {
        if (details) wantedDetails.set('id' in locator ? `id:${locator.id}` : `slug:${locator.slug}`, details);
        const organization =
          'id' in locator
            ? await loaders.organizationById.load(locator.id)
            : await loaders.organizationBySlug.load(locator.slug);
        const role = organization ? await loaders.myRole.load(organization.id) : null;
        return organization && role ? { organization, role } : null;
      });
    },
    /** A project with the caller's organization role and project grant on it, read once per request. */
    projectAccess(
      locator: { id: string } | { ref: string },
    ): Promise<{ project: Project; role: OrganizationRole | null; grant: AccessLevel | null } | null> {
      const key = 'id' in locator ? `p:id:${locator.id}` : `p:ref:${locator.ref}`;
      return remember(key, async () => {
        const project =
          'id' in locator ? await loaders.projectById.load(locator.id) : await loaders.projectByRef.load(locator.ref);
        if (!project) return null;
        const [role, grant] = await Promise.all([
          loaders.myRole.load(project.organizationId),
          loaders.myGrant.load(project.id),
        ]);
        return { project, role, grant };
      });
    },
    /**
     * An organization from a row that has its columns and the caller's role (`viewer_role`),
     * plus the detail columns when `details` were asked: every loader that row answers is primed.
     */
    organizationFromRow(row: Row, details: OrganizationDetails | null): Organization {
      const organization = toOrganization(row);
      const role = (row.viewer_role as OrganizationRole | null) ?? null;
      loaders.organizationById.prime(organization.id, organization);
      loaders.organizationBySlug.prime(organization.slug, organization);
      loaders.myRole.prime(organization.id, role);
      if (details) primeDetails(detailTargets, details, organization.id, role, row, toUser);
      return organization;
    },
  };
  return loaders;
}

export type Loaders = ReturnType<typeof createLoaders>;
