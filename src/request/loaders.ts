import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Credential } from '../entities/credential.entity';
import type { Organization } from '../entities/organization.entity';
import type { AccessLevel, ProjectGrant } from '../entities/project-grant.entity';
import type { Project } from '../entities/project.entity';
import type { OrganizationRole, UserRole } from '../entities/user-role.entity';
import type { PlatformRole, User } from '../entities/user.entity';
import {
  invoiceRepository,
  linePageCacheKey,
  type LinePage,
  type LinePageKey,
} from '../repositories/billing-invoice.repository';
import { membershipRepository } from '../repositories/membership.repository';
import { byKey } from '../repositories/matching';
import type { OrganizationDetails, PageWindow, Rows } from '../repositories/organization-details';
import { organizationRepository, type OrganizationRow } from '../repositories/organization.repository';
import { projectGrantRepository } from '../repositories/project-grant.repository';
import { projectRepository, type ProjectRow } from '../repositories/project.repository';
import { userRepository } from '../repositories/user.repository';

export type MemberRows = Rows<{ membership: UserRole; user: User }>;

/** A page of something's list: the owner's id and the window. Equal keys are the same page. */
export interface PageKey {
  ownerId: string;
  window: PageWindow;
}

const pageCacheKey = ({ ownerId, window }: PageKey) =>
  `${ownerId}|${window.limit}|${window.after?.createdAt.toISOString() ?? ''}|${window.after?.id ?? ''}`;

/** Keys asking for the same window, so that one statement serves them. */
function byWindow(keys: readonly PageKey[]): PageKey[][] {
  const groups = new Map<string, PageKey[]>();
  for (const key of keys) {
    const shape = pageCacheKey({ ownerId: '', window: key.window });
    groups.set(shape, [...(groups.get(shape) ?? []), key]);
  }
  return [...groups.values()];
}

/** A DataLoader of pages over a batch read of one window for many owners. */
function pageLoader<T>(read: (ownerIds: string[], window: PageWindow) => Promise<Map<string, Rows<T>>>) {
  return new DataLoader<PageKey, Rows<T>, string>(
    async (keys) => {
      const found = new Map<string, Rows<T>>();
      for (const group of byWindow(keys)) {
        const pages = await read(
          group.map((key) => key.ownerId),
          group[0].window,
        );
        for (const key of group) found.set(pageCacheKey(key), pages.get(key.ownerId) ?? { rows: [], totalCount: 0 });
      }
      return keys.map((key) => found.get(pageCacheKey(key)) as Rows<T>);
    },
    { cacheKeyFn: pageCacheKey },
  );
}

/**
 * Per-request caches over the repositories' batch reads: each relation costs one statement per
 * request level. A resource is read with the caller's role (and grant) on it, and an organization
 * with the pages its query asked for; whatever a row brings primes the loaders it answers.
 * Each loader is made on first use: a request reads through a few of them, and a loader is a
 * handful of closures and maps. A class, so that the accessors live on the prototype.
 */
export class RequestLoaders {
  /** Projects read in this request whose organization is deleted: hidden with it. */
  readonly inDeletedOrganization = new Set<string>();
  /** Projects read in this request whose organization is suspended, with the reason. */
  readonly organizationSuspension = new Map<string, string>();
  private organizations?: ReturnType<typeof organizationLoaders>;
  private projects?: ReturnType<typeof projectLoaders>;
  private caller?: ReturnType<typeof callerLoaders>;
  private members?: DataLoader<PageKey, MemberRows, string>;
  private grants?: DataLoader<PageKey, Rows<ProjectGrant>, string>;
  private projectPageLoader?: DataLoader<PageKey, Rows<Project>, string>;
  private invoiceLines?: DataLoader<LinePageKey, LinePage, string>;
  private credentials?: DataLoader<string, Credential | null>;
  private access?: ReturnType<typeof accessReads>;

  constructor(
    private readonly db: DataSource,
    private readonly viewerId: string | null,
  ) {}

  private get organizationReads() {
    return (this.organizations ??= organizationLoaders(this.db, this.viewerId, (row, details) =>
      this.primeOrganization(row, details),
    ));
  }

  private get projectReads() {
    return (this.projects ??= projectLoaders(this.db, this.viewerId, (row) => this.primeProject(row)));
  }

  private get callerReads() {
    return (this.caller ??= callerLoaders(this.db, this.viewerId));
  }

  get organizationById() {
    return this.organizationReads.organizationById;
  }

  get organizationBySlug() {
    return this.organizationReads.organizationBySlug;
  }

  /** A page of the caller's organizations, read with the details asked, priming what they answer. */
  organizationPage(userId: string, window: PageWindow, details: Details) {
    return this.organizationReads.organizationPage(userId, window, details);
  }

  get projectById() {
    return this.projectReads.projectById;
  }

  get projectByRef() {
    return this.projectReads.projectByRef;
  }

  get userById() {
    return this.callerReads.userById;
  }

  /** The caller's platform role, read once per request that asks (the operator's part of the schema). */
  myPlatformRole() {
    return this.callerReads.myPlatformRole();
  }

  /** The caller's role in each organization (null: not a member). */
  get myRole() {
    return this.callerReads.myRole;
  }

  /** The caller's grant on each project (null: no grant). */
  get myGrant() {
    return this.callerReads.myGrant;
  }

  get memberPages() {
    return (this.members ??= pageLoader((ids, window) => membershipRepository.pagesFor(this.db, ids, window)));
  }

  get grantPages() {
    return (this.grants ??= pageLoader<ProjectGrant>((ids, window) =>
      projectGrantRepository.pagesFor(this.db, ids, window),
    ));
  }

  /** The projects the caller sees, a page per organization. */
  get projectPages() {
    const { db, viewerId } = this;
    return (this.projectPageLoader ??= pageLoader<Project>((ids, window) =>
      viewerId
        ? projectRepository.pagesFor(db, viewerId, ids, window)
        : Promise.resolve(new Map<string, Rows<Project>>()),
    ));
  }

  /** The lines of a page of invoices, in one statement. */
  get invoiceLinePages() {
    return (this.invoiceLines ??= new DataLoader<LinePageKey, LinePage, string>(
      (keys) => invoiceRepository.linePages(this.db.manager, keys),
      { cacheKeyFn: linePageCacheKey },
    ));
  }

  /** The whole row, secret columns included: they are decrypted only by the fields that check the permission. */
  get credentialByProject() {
    return (this.credentials ??= new DataLoader<string, Credential | null>(async (ids) =>
      byKey(ids, await projectRepository.credentials(this.db, ids), (credential) => credential.projectId),
    ));
  }

  /** An organization and the caller's role in it; null when absent or the caller is no member. */
  organizationAccess(locator: { id: string } | { slug: string }, details: OrganizationDetails | null = null) {
    return (this.access ??= accessReads(this)).organizationAccess(locator, details);
  }

  /** A project with the caller's organization role and project grant on it, and whether its organization is deleted. */
  projectAccess(locator: { id: string } | { ref: string }) {
    return (this.access ??= accessReads(this)).projectAccess(locator);
  }

  private primeOrganization({ organization, role, details: rows }: OrganizationRow, details: Details): void {
    const row = { organization, role, details: null };
    this.organizationById.prime({ key: organization.id, details: null }, row);
    this.organizationBySlug.prime({ key: organization.slug, details: null }, row);
    this.myRole.prime(organization.id, role);
    if (rows?.members && details?.memberPage) {
      for (const { user } of rows.members.rows) this.userById.prime(user.id, user);
      this.memberPages.prime({ ownerId: organization.id, window: details.memberPage }, rows.members);
    }
    if (rows?.projects && details?.projectPage) {
      this.projectPages.prime({ ownerId: organization.id, window: details.projectPage }, rows.projects);
    }
  }

  private primeProject({ project, role, grant, credential, organizationDeleted, organizationSuspension }: ProjectRow) {
    if (organizationDeleted) this.inDeletedOrganization.add(project.id);
    if (organizationSuspension) this.organizationSuspension.set(project.id, organizationSuspension);
    this.projectById.prime(project.id, project);
    this.projectByRef.prime(project.ref, project);
    this.myRole.prime(project.organizationId, role);
    this.myGrant.prime(project.id, grant);
    this.credentialByProject.prime(project.id, credential);
  }
}

/** Users, and the caller's role in organizations and grant on projects. */
function callerLoaders(db: DataSource, viewerId: string | null) {
  let platformRole: Promise<PlatformRole | null> | undefined;
  return {
    /** The caller's platform role, read once per request that asks (the operator's part of the schema). */
    myPlatformRole(): Promise<PlatformRole | null> {
      return (platformRole ??= viewerId ? userRepository.platformRoleOf(db, viewerId) : Promise.resolve(null));
    },
    userById: new DataLoader<string, User | null>((ids) => userRepository.byIds(db, ids)),
    /** The caller's role in each organization (null: not a member). */
    myRole: new DataLoader<string, OrganizationRole | null>(async (ids) => {
      const roles = viewerId ? await membershipRepository.rolesOf(db, viewerId, ids) : new Map<string, never>();
      return ids.map((id) => roles.get(id) ?? null);
    }),
    /** The caller's grant on each project (null: no grant). */
    myGrant: new DataLoader<string, AccessLevel | null>(async (ids) => {
      const levels = viewerId ? await projectGrantRepository.levelsOf(db, viewerId, ids) : new Map<string, never>();
      return ids.map((id) => levels.get(id) ?? null);
    }),
  };
}

type Details = OrganizationDetails | null;

/** An organization by id or slug, and what the query reads with it (the look-ahead), as one input. */
export interface OrganizationKey {
  key: string;
  details: Details;
}

/** Organizations by id or slug with the caller's role, one statement per kind of details asked. */
function organizationLoaders(
  db: DataSource,
  viewerId: string | null,
  prime: (row: OrganizationRow, details: Details) => void,
) {
  const read = async (column: 'id' | 'slug', keys: readonly OrganizationKey[]) => {
    const groups = new Map<string, { details: Details; keys: string[] }>();
    for (const { key, details } of keys) {
      const shape = details ? JSON.stringify(details) : '';
      const group = groups.get(shape) ?? { details, keys: [] };
      group.keys.push(key);
      groups.set(shape, group);
    }
    const found: OrganizationRow[] = [];
    for (const { details, keys: group } of groups.values()) {
      const rows = await organizationRepository.withRole(db, viewerId, column, group, details);
      for (const row of rows) prime(row, details);
      found.push(...rows);
    }
    return byKey(
      keys.map((k) => k.key),
      found,
      (row) => (column === 'id' ? row.organization.id : row.organization.slug),
    );
  };
  const loader = (column: 'id' | 'slug') =>
    new DataLoader<OrganizationKey, OrganizationRow | null, string>((keys) => read(column, keys), {
      cacheKeyFn: (k) => k.key,
    });
  return {
    organizationById: loader('id'),
    organizationBySlug: loader('slug'),
    /** A page of the caller's organizations, read with the details asked, priming what they answer. */
    async organizationPage(userId: string, window: PageWindow, details: Details) {
      const page = await organizationRepository.pageForMember(db, userId, window, details);
      for (const row of page.rows) prime(row, details);
      return page;
    },
  };
}

/** Projects by id or ref, read with the caller's role and grant and the credentials. */
function projectLoaders(db: DataSource, viewerId: string | null, prime: (row: ProjectRow) => void) {
  const loader = (column: 'id' | 'ref') =>
    new DataLoader<string, Project | null>(async (keys) => {
      const rows = await projectRepository.withAccess(db, viewerId, column, keys);
      rows.forEach(prime);
      return byKey(
        keys,
        rows.map((row) => row.project),
        (project) => (column === 'id' ? project.id : project.ref),
      );
    });
  return { projectById: loader('id'), projectByRef: loader('ref') };
}

/** The loaders an access read goes through. */
interface AccessSources {
  organizationById: DataLoader<OrganizationKey, OrganizationRow | null, string>;
  organizationBySlug: DataLoader<OrganizationKey, OrganizationRow | null, string>;
  projectById: DataLoader<string, Project | null>;
  /** The suspension reason of each read project's organization, when it is suspended. */
  organizationSuspension: Map<string, string>;
  projectByRef: DataLoader<string, Project | null>;
  myRole: DataLoader<string, OrganizationRole | null>;
  myGrant: DataLoader<string, AccessLevel | null>;
  inDeletedOrganization: Set<string>;
}

/** The caller's access to each resource, looked up once per request: every guarded field of it asks again. */
function accessReads(l: AccessSources) {
  const decided = new Map<string, Promise<unknown>>();
  const remember = <T>(key: string, find: () => Promise<T>): Promise<T> => {
    let found = decided.get(key) as Promise<T> | undefined;
    if (!found) decided.set(key, (found = find()));
    return found;
  };
  return {
    /** An organization and the caller's role in it; null when absent or the caller is no member. */
    organizationAccess(
      locator: { id: string } | { slug: string },
      details: OrganizationDetails | null = null,
    ): Promise<{ organization: Organization; role: OrganizationRole } | null> {
      const column = 'id' in locator ? 'id' : 'slug';
      const key = 'id' in locator ? locator.id : locator.slug;
      return remember(`o:${column}:${key}`, async () => {
        const row = await (column === 'id' ? l.organizationById : l.organizationBySlug).load({ key, details });
        return row?.role ? { organization: row.organization, role: row.role } : null;
      });
    },
    /** A project with the caller's organization role and project grant on it, and whether its organization is deleted. */
    projectAccess(locator: { id: string } | { ref: string }): Promise<{
      project: Project;
      role: OrganizationRole | null;
      grant: AccessLevel | null;
      organizationDeleted: boolean;
      organizationSuspension: string | null;
    } | null> {
      const key = 'id' in locator ? `p:id:${locator.id}` : `p:ref:${locator.ref}`;
      return remember(key, async () => {
        const project = 'id' in locator ? await l.projectById.load(locator.id) : await l.projectByRef.load(locator.ref);
        if (!project) return null;
        const [role, grant] = await Promise.all([l.myRole.load(project.organizationId), l.myGrant.load(project.id)]);
        return {
          project,
          role,
          grant,
          organizationDeleted: l.inDeletedOrganization.has(project.id),
          organizationSuspension: l.organizationSuspension.get(project.id) ?? null,
        };
      });
    },
  };
}

export type Loaders = RequestLoaders;
