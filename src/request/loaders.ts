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
import { invitationRepository, membershipRepository } from '../repositories/membership.repository';
import { byKey } from '../repositories/matching';
import type { OrganizationDetails, PageWindow, Rows } from '../repositories/organization-details';
import { organizationRepository, type OrganizationRow } from '../repositories/organization.repository';
import { projectGrantRepository } from '../repositories/project-grant.repository';
import { projectRepository, type ProjectRow } from '../repositories/project.repository';
import { userRepository } from '../repositories/user.repository';
import { PrincipalKind, type Principal } from '../permissions';
import type { AccessKey } from '../entities/access-key.entity';
import type { ServiceAccount } from '../entities/service-account.entity';
import { accessKeyRepository } from '../repositories/access-key.repository';
import { serviceAccountRepository } from '../repositories/service-account.repository';
import { isUuid } from '../inputs/ids';
import { webhookRepository } from '../repositories/webhook.repository';

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
  /**
   * What the rows of projects read in this request said of their organization, for those whose
   * organization is deleted (they are hidden with it) or suspended (with the reason).
   */
  readonly organizationStanding = new Map<string, OrganizationStanding>();
  private organizations?: ReturnType<typeof organizationLoaders>;
  private projects?: ReturnType<typeof projectLoaders>;
  private caller?: ReturnType<typeof callerLoaders>;
  private members?: DataLoader<PageKey, MemberRows, string>;
  private grants?: DataLoader<PageKey, Rows<ProjectGrant>, string>;
  private projectPageLoader?: DataLoader<PageKey, Rows<Project>, string>;
  private invoiceLines?: DataLoader<LinePageKey, LinePage, string>;
  private credentials?: DataLoader<string, Credential | null>;
  private access?: ReturnType<typeof accessReads>;
  private machines?: ReturnType<typeof machineLoaders>;

  constructor(
    private readonly db: DataSource,
    private readonly viewer: Principal | null,
  ) {}

  private get organizationReads() {
    return (this.organizations ??= organizationLoaders(this.db, this.viewer, (row, details) =>
      this.primeOrganization(row, details),
    ));
  }

  private get projectReads() {
    return (this.projects ??= projectLoaders(this.db, this.viewer, (row) => this.primeProject(row)));
  }

  private get callerReads() {
    return (this.caller ??= callerLoaders(this.db, this.viewer));
  }

  get organizationById() {
    return this.organizationReads.organizationById;
  }

  get organizationBySlug() {
    return this.organizationReads.organizationBySlug;
  }

  /** A page of the caller's organizations, read with the details asked, priming what they answer. */
  organizationPage(member: Principal, window: PageWindow, details: Details) {
    return this.organizationReads.organizationPage(member, window, details);
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
    const { db, viewer } = this;
    return (this.projectPageLoader ??= pageLoader<Project>((ids, window) =>
      viewer ? projectRepository.pagesFor(db, viewer, ids, window) : Promise.resolve(new Map<string, Rows<Project>>()),
    ));
  }

  private get machineReads() {
    return (this.machines ??= machineLoaders(this.db));
  }

  get serviceAccountById() {
    return this.machineReads.serviceAccountById;
  }

  /** Each service account's keys, newest first. */
  get apiKeysOf() {
    return this.machineReads.apiKeysOf;
  }

  /** The organization a service account belongs to; null for none (or for what is not an id). */
  organizationOfServiceAccount(id: string) {
    return this.machineReads.organizationOfServiceAccount(id);
  }

  /** The organization of the service account an API key belongs to; null for none. */
  organizationOfApiKey(id: string) {
    return this.machineReads.organizationOfApiKey(id);
  }

  /** The organization of a pending invitation; null for none. */
  organizationOfInvitation(id: string) {
    return this.machineReads.organizationOfInvitation(id);
  }

  /** The organization a webhook, or a webhook's delivery, belongs to; null for none (or for what is not an id). */
  async organizationOfWebhook(of: { webhookId: string } | { deliveryId: string }): Promise<{ id: string } | null> {
    if (!isUuid('webhookId' in of ? of.webhookId : of.deliveryId)) return null;
    const id = await webhookRepository.organizationOf(this.db, of);
    return id ? { id } : null;
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
    if (organizationDeleted || organizationSuspension) {
      this.organizationStanding.set(project.id, { organizationDeleted, organizationSuspension });
    }
    this.projectById.prime(project.id, project);
    this.projectByRef.prime(project.ref, project);
    this.myRole.prime(project.organizationId, role);
    this.myGrant.prime(project.id, grant);
    this.credentialByProject.prime(project.id, credential);
  }
}

/** Service accounts and their API keys, and the organization each belongs to. */
function machineLoaders(db: DataSource) {
  const serviceAccountById = new DataLoader<string, ServiceAccount | null>((ids) =>
    serviceAccountRepository.byIds(db, ids),
  );
  const organizationOfKey = new DataLoader<string, string | null>(async (ids) => {
    const found = await serviceAccountRepository.organizationsOfKeys(db, ids);
    return ids.map((id) => found.get(id) ?? null);
  });
  return {
    serviceAccountById,
    /** Each service account's keys, newest first. */
    apiKeysOf: new DataLoader<string, AccessKey[]>((ids) => accessKeyRepository.ofServiceAccounts(db, ids)),
    /** The organization a service account belongs to; null for none (or for what is not an id). */
    async organizationOfServiceAccount(id: string): Promise<{ id: string } | null> {
      const account = isUuid(id) ? await serviceAccountById.load(id) : null;
      return account ? { id: account.organizationId } : null;
    },
    /** The organization of the service account an API key belongs to; null for none. */
    async organizationOfApiKey(id: string): Promise<{ id: string } | null> {
      const organizationId = isUuid(id) ? await organizationOfKey.load(id) : null;
      return organizationId ? { id: organizationId } : null;
    },
    /** The organization of a pending invitation; null for none (or for what is not an id). */
    async organizationOfInvitation(id: string): Promise<{ id: string } | null> {
      const organizationId = isUuid(id) ? await invitationRepository.organizationOfPending(db.manager, id) : null;
      return organizationId ? { id: organizationId } : null;
    },
  };
}

/** Users, and the caller's role in organizations and grant on projects. */
function callerLoaders(db: DataSource, viewer: Principal | null) {
  let platformRole: Promise<PlatformRole | null> | undefined;
  return {
    /** The caller's platform role, read once per request that asks; a service account holds none. */
    myPlatformRole(): Promise<PlatformRole | null> {
      return (platformRole ??=
        viewer?.kind === PrincipalKind.USER ? userRepository.platformRoleOf(db, viewer.id) : Promise.resolve(null));
    },
    userById: new DataLoader<string, User | null>((ids) => userRepository.byIds(db, ids)),
    /** The caller's role in each organization (null: not a member). */
    myRole: new DataLoader<string, OrganizationRole | null>(async (ids) => {
      const roles = viewer ? await membershipRepository.rolesOf(db, viewer, ids) : new Map<string, never>();
      return ids.map((id) => roles.get(id) ?? null);
    }),
    /** The caller's grant on each project (null: no grant). */
    myGrant: new DataLoader<string, AccessLevel | null>(async (ids) => {
      const levels = viewer ? await projectGrantRepository.levelsOf(db, viewer, ids) : new Map<string, never>();
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
  viewer: Principal | null,
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
      const rows = await organizationRepository.withRole(db, viewer, column, group, details);
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
    async organizationPage(member: Principal, window: PageWindow, details: Details) {
      const page = await organizationRepository.pageForMember(db, member, window, details);
      for (const row of page.rows) prime(row, details);
      return page;
    },
  };
}

/** Projects by id or ref, read with the caller's role and grant and the credentials. */
function projectLoaders(db: DataSource, viewer: Principal | null, prime: (row: ProjectRow) => void) {
  const loader = (column: 'id' | 'ref') =>
    new DataLoader<string, Project | null>(async (keys) => {
      const rows = await projectRepository.withAccess(db, viewer, column, keys);
      rows.forEach(prime);
      return byKey(
        keys,
        rows.map((row) => row.project),
        (project) => (column === 'id' ? project.id : project.ref),
      );
    });
  return { projectById: loader('id'), projectByRef: loader('ref') };
}

/** What a project's row says of its organization: deleted, or suspended with this reason. */
type OrganizationStanding = Pick<ProjectRow, 'organizationDeleted' | 'organizationSuspension'>;

/** A project whose organization is neither deleted nor suspended. */
const STANDING_LIVE: OrganizationStanding = { organizationDeleted: false, organizationSuspension: null };

/** The loaders an access read goes through. */
interface AccessSources {
  organizationById: DataLoader<OrganizationKey, OrganizationRow | null, string>;
  organizationBySlug: DataLoader<OrganizationKey, OrganizationRow | null, string>;
  projectById: DataLoader<string, Project | null>;
  projectByRef: DataLoader<string, Project | null>;
  myRole: DataLoader<string, OrganizationRole | null>;
  myGrant: DataLoader<string, AccessLevel | null>;
  organizationStanding: Map<string, OrganizationStanding>;
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
          ...(l.organizationStanding.get(project.id) ?? STANDING_LIVE),
        };
      });
    },
  };
}

export type Loaders = RequestLoaders;
