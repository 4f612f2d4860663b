import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { Credential } from '../entities/credential.entity';
import { Organization } from '../entities/organization.entity';
import { Permission, type AccessLevel } from '../entities/permission.entity';
import { Project } from '../entities/project.entity';
import { UserRole, type OrganizationRole } from '../entities/user-role.entity';
import { User } from '../entities/user.entity';
import { loadProjectPages, type ProjectPageKey, type ProjectPageRows } from './project-pages';

function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): (V | null)[] {
  const map = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => map.get(key) ?? null);
}

function groupBy<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const map = new Map<K, V[]>(keys.map((key) => [key, []]));
  for (const row of rows) map.get(keyOf(row))?.push(row);
  return keys.map((key) => map.get(key) ?? []);
}

/**
 * Per-request batching and caching: each relation costs one statement per request level,
 * whatever the number of parents. The caller-specific loaders (role, grant) are keyed by
 * the caller of this request only.
 */
export function createLoaders(db: DataSource, viewerId: string | null) {
  const organizations = db.getRepository(Organization);
  const projects = db.getRepository(Project);
  return {
    organizationById: new DataLoader<string, Organization | null>(async (ids) =>
      byKey(ids, await organizations.findBy({ id: In([...ids]) }), (o) => o.id),
    ),
    organizationBySlug: new DataLoader<string, Organization | null>(async (slugs) =>
      byKey(slugs, await organizations.findBy({ slug: In([...slugs]) }), (o) => o.slug),
    ),
    projectById: new DataLoader<string, Project | null>(async (ids) =>
      byKey(ids, await projects.findBy({ id: In([...ids]) }), (p) => p.id),
    ),
    projectByRef: new DataLoader<string, Project | null>(async (refs) =>
      byKey(refs, await projects.findBy({ ref: In([...refs]) }), (p) => p.ref),
    ),
    userById: new DataLoader<string, User | null>(async (ids) =>
      byKey(ids, await db.getRepository(User).findBy({ id: In([...ids]) }), (u) => u.id),
    ),
    /** The caller's role in each organization (null: not a member). */
    myRole: new DataLoader<string, OrganizationRole | null>(async (organizationIds) => {
      if (!viewerId) return organizationIds.map(() => null);
      const rows = await db
        .getRepository(UserRole)
        .findBy({ userId: viewerId, organizationId: In([...organizationIds]) });
      return byKey(organizationIds, rows, (r) => r.organizationId).map((r) => r?.role ?? null);
    }),
    /** The caller's grant on each project (null: no grant). */
    myGrant: new DataLoader<string, AccessLevel | null>(async (projectIds) => {
      if (!viewerId) return projectIds.map(() => null);
      const rows = await db.getRepository(Permission).findBy({ userId: viewerId, projectId: In([...projectIds]) });
      return byKey(projectIds, rows, (r) => r.projectId).map((r) => r?.accessLevel ?? null);
    }),
    membersByOrganization: new DataLoader<string, UserRole[]>(async (organizationIds) => {
      const rows = await db
        .getRepository(UserRole)
        .find({ where: { organizationId: In([...organizationIds]) }, order: { createdAt: 'ASC', id: 'ASC' } });
      return groupBy(organizationIds, rows, (r) => r.organizationId);
    }),
    permissionsByProject: new DataLoader<string, Permission[]>(async (projectIds) => {
      const rows = await db
        .getRepository(Permission)
        .find({ where: { projectId: In([...projectIds]) }, order: { createdAt: 'ASC', id: 'ASC' } });
      return groupBy(projectIds, rows, (r) => r.projectId);
    }),
    /** Keyed by object identity: callers build one key per (organization, page) request. */
    projectPages: new DataLoader<ProjectPageKey, ProjectPageRows>(
      (keys) =>
        viewerId
          ? loadProjectPages(db, viewerId, keys)
          : Promise.resolve(keys.map(() => ({ rows: [], totalCount: 0 }))),
      { cache: false },
    ),
    credentialByProject: new DataLoader<string, Credential | null>(async (projectIds) =>
      byKey(
        projectIds,
        await db.getRepository(Credential).findBy({ projectId: In([...projectIds]) }),
        (c) => c.projectId,
      ),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
