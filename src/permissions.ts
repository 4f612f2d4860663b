import { AccessLevel } from './entities/project-grant.entity';
import { OrganizationRole } from './entities/user-role.entity';
import { PlatformRole } from './entities/user.entity';

/**
 * The permission matrix: the one place that says who may do what. Resolvers declare the
 * permission they need with @Authorized(Permission.X); services ask `can…()` for the rules
 * that depend on the target (who may make an owner, what a grant may give).
 */
export enum Permission {
  OrganizationRead = 'organization:read',
  OrganizationUpdate = 'organization:update',
  OrganizationDelete = 'organization:delete',
  /** Invite, change the role of, and remove admins, members and viewers. */
  MembersManage = 'members:manage',
  /** Make someone owner; change the role of, or remove, an owner. */
  OwnersManage = 'owners:manage',
  ProjectCreate = 'project:create',
  BillingRead = 'billing:read',
  BillingManage = 'billing:manage',

  ProjectRead = 'project:read',
  /** Update, pause, restore. */
  ProjectUpdate = 'project:update',
  /** See the service-role key and the JWT secret; rotate the secret. */
  ProjectSecretsManage = 'project:secrets:manage',
  ProjectDelete = 'project:delete',
  ProjectPermissionsManage = 'project:permissions:manage',

  /** The operator's view: every organization, user and bill. Gives no membership in any organization. */
  PlatformRead = 'platform:read',
  /** Suspend, unsuspend, give a complimentary plan. */
  PlatformOrganizationsManage = 'platform:organizations:manage',
  /** Settle invoices: mark one paid (money received outside the provider) or void it. */
  PlatformBillingManage = 'platform:billing:manage',
  /** Invite someone to sign up; delete an account. */
  PlatformUsersManage = 'platform:users:manage',

  /** The caller's own sessions and password: log out, revoke sessions, change the password. */
  AccountCredentialsManage = 'account:credentials:manage',
  /** Read the organization's audit log. */
  AuditRead = 'audit:read',
  /** Create, change, delete webhooks and read their deliveries. */
  WebhooksManage = 'webhooks:manage',
}

export type OrganizationPermission =
  | Permission.OrganizationRead
  | Permission.OrganizationUpdate
  | Permission.OrganizationDelete
  | Permission.MembersManage
  | Permission.OwnersManage
  | Permission.ProjectCreate
  | Permission.BillingRead
  | Permission.BillingManage
  | Permission.AuditRead
  | Permission.WebhooksManage;

export type ProjectPermission =
  | Permission.ProjectRead
  | Permission.ProjectUpdate
  | Permission.ProjectSecretsManage
  | Permission.ProjectDelete
  | Permission.ProjectPermissionsManage;

export type PlatformPermission =
  | Permission.PlatformRead
  | Permission.PlatformOrganizationsManage
  | Permission.PlatformBillingManage
  | Permission.PlatformUsersManage;

export const ROLE_PERMISSIONS = {
  [OrganizationRole.OWNER]: [
    Permission.OrganizationRead,
    Permission.OrganizationUpdate,
    Permission.OrganizationDelete,
    Permission.MembersManage,
    Permission.OwnersManage,
    Permission.ProjectCreate,
    Permission.BillingRead,
    Permission.BillingManage,
    Permission.AuditRead,
    Permission.WebhooksManage,
  ],
  [OrganizationRole.ADMIN]: [
    Permission.OrganizationRead,
    Permission.OrganizationUpdate,
    Permission.MembersManage,
    Permission.ProjectCreate,
    Permission.BillingRead,
    Permission.AuditRead,
    Permission.WebhooksManage,
  ],
  [OrganizationRole.MEMBER]: [Permission.OrganizationRead, Permission.ProjectCreate],
  [OrganizationRole.VIEWER]: [Permission.OrganizationRead],
} as const satisfies Record<OrganizationRole, readonly OrganizationPermission[]>;

export const ACCESS_LEVEL_PERMISSIONS = {
  [AccessLevel.READ]: [Permission.ProjectRead],
  [AccessLevel.WRITE]: [Permission.ProjectRead, Permission.ProjectUpdate],
  [AccessLevel.ADMIN]: [
    Permission.ProjectRead,
    Permission.ProjectUpdate,
    Permission.ProjectSecretsManage,
    Permission.ProjectDelete,
    Permission.ProjectPermissionsManage,
  ],
} as const satisfies Record<AccessLevel, readonly ProjectPermission[]>;

export const PLATFORM_ROLE_PERMISSIONS = {
  [PlatformRole.PLATFORM_ADMIN]: [
    Permission.PlatformRead,
    Permission.PlatformOrganizationsManage,
    Permission.PlatformBillingManage,
    Permission.PlatformUsersManage,
  ],
  [PlatformRole.PLATFORM_VIEWER]: [Permission.PlatformRead],
} as const satisfies Record<PlatformRole, readonly PlatformPermission[]>;

const PLATFORM_PERMISSIONS = new Set<Permission>(PLATFORM_ROLE_PERMISSIONS[PlatformRole.PLATFORM_ADMIN]);

export function isPlatformPermission(permission: Permission): permission is PlatformPermission {
  return PLATFORM_PERMISSIONS.has(permission);
}

export function platformRoleCan(
  role: PlatformRole | null,
  permission: PlatformPermission,
  authentication: Authentication = Authentication.SESSION,
): boolean {
  return (
    role !== null &&
    (PLATFORM_ROLE_PERMISSIONS[role] as readonly Permission[]).includes(permission) &&
    !withheld(authentication, permission)
  );
}

const PROJECT_PERMISSIONS = new Set<Permission>(ACCESS_LEVEL_PERMISSIONS[AccessLevel.ADMIN]);

export function isProjectPermission(permission: Permission): permission is ProjectPermission {
  return PROJECT_PERMISSIONS.has(permission);
}

const LEVEL_RANK: Record<AccessLevel, number> = { read: 1, write: 2, admin: 3 };
const ROLE_RANK: Record<OrganizationRole, number> = { viewer: 1, member: 2, admin: 3, owner: 4 };

/** Owners and admins hold admin on every project of their organization. */
const ROLE_IMPLIED_ACCESS: Record<OrganizationRole, AccessLevel | null> = {
  owner: AccessLevel.ADMIN,
  admin: AccessLevel.ADMIN,
  member: null,
  viewer: null,
};

/** Whether the role sees every project of its organization (rather than only granted ones). */
export function seesAllProjects(role: OrganizationRole): boolean {
  return ROLE_IMPLIED_ACCESS[role] !== null;
}

/** The highest access level a role may hold on a project through a grant. */
export const MAX_GRANTABLE_ACCESS: Record<OrganizationRole, AccessLevel> = {
  owner: AccessLevel.ADMIN,
  admin: AccessLevel.ADMIN,
  member: AccessLevel.ADMIN,
  viewer: AccessLevel.READ,
};

/** Who a caller acts as: a user, or a service account of one organization. */
export enum PrincipalKind {
  USER = 'user',
  SERVICE_ACCOUNT = 'service_account',
}

export interface Principal {
  kind: PrincipalKind;
  id: string;
}

/** How a request authenticated. */
export enum Authentication {
  SESSION = 'session',
  PERSONAL_ACCESS_TOKEN = 'personal_access_token',
  API_KEY = 'api_key',
}

/** The operator's changes: a platform admin makes them signed in with a password, never with a token or key. */
const PLATFORM_CHANGES = [
  Permission.PlatformOrganizationsManage,
  Permission.PlatformBillingManage,
  Permission.PlatformUsersManage,
] as const;

/**
 * What a credential never gives, whatever its principal's role: a request made with an API key
 * cannot change who may act (members, their grants, service accounts and keys), so a leaked key
 * cannot entrench itself; neither a key nor a personal access token carries a platform admin's
 * power to suspend, settle invoices or delete accounts (a token leaked from a CI log would).
 */
export const WITHHELD_FROM = {
  [Authentication.SESSION]: [],
  [Authentication.PERSONAL_ACCESS_TOKEN]: [...PLATFORM_CHANGES, Permission.AccountCredentialsManage],
  [Authentication.API_KEY]: [
    Permission.AccountCredentialsManage,
    Permission.MembersManage,
    Permission.OwnersManage,
    Permission.ProjectPermissionsManage,
    ...PLATFORM_CHANGES,
  ],
} as const satisfies Record<Authentication, readonly Permission[]>;

function withheld(authentication: Authentication, permission: Permission): boolean {
  return (WITHHELD_FROM[authentication] as readonly Permission[]).includes(permission);
}

export function roleCan(
  role: OrganizationRole | null,
  permission: OrganizationPermission,
  authentication: Authentication = Authentication.SESSION,
): boolean {
  return (
    role !== null &&
    (ROLE_PERMISSIONS[role] as readonly Permission[]).includes(permission) &&
    !withheld(authentication, permission)
  );
}

export function accessCan(
  level: AccessLevel | null,
  permission: ProjectPermission,
  authentication: Authentication = Authentication.SESSION,
): boolean {
  return (
    level !== null &&
    (ACCESS_LEVEL_PERMISSIONS[level] as readonly Permission[]).includes(permission) &&
    !withheld(authentication, permission)
  );
}

/**
 * A caller's effective access to a project: what the organization role implies, or the
 * project's grant (capped by the role), or null when the project does not exist for them.
 */
export function effectiveAccess(role: OrganizationRole | null, granted: AccessLevel | null): AccessLevel | null {
  if (role === null) return null;
  const implied = ROLE_IMPLIED_ACCESS[role];
  if (implied) return implied;
  if (granted === null) return null;
  return LEVEL_RANK[granted] <= LEVEL_RANK[MAX_GRANTABLE_ACCESS[role]] ? granted : MAX_GRANTABLE_ACCESS[role];
}

export function accessAtLeast(level: AccessLevel, other: AccessLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[other];
}

export function roleAtLeast(role: OrganizationRole, other: OrganizationRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[other];
}

/** Role changes that touch an owner (making one, or changing or removing one) need OwnersManage. */
export function roleChangeNeeds(from: OrganizationRole | null, to: OrganizationRole | null): OrganizationPermission {
  return from === OrganizationRole.OWNER || to === OrganizationRole.OWNER
    ? Permission.OwnersManage
    : Permission.MembersManage;
}

export function permissionsOfRole(
  role: OrganizationRole | null,
  authentication: Authentication = Authentication.SESSION,
): OrganizationPermission[] {
  return role ? ROLE_PERMISSIONS[role].filter((permission) => !withheld(authentication, permission)) : [];
}

export function permissionsOfAccess(
  level: AccessLevel | null,
  authentication: Authentication = Authentication.SESSION,
): ProjectPermission[] {
  return level ? ACCESS_LEVEL_PERMISSIONS[level].filter((permission) => !withheld(authentication, permission)) : [];
}

/** A user's own account: held by every user, but only signed in with a session (WITHHELD_FROM). */
export type AccountPermission = Permission.AccountCredentialsManage;

export function isAccountPermission(permission: Permission): permission is AccountPermission {
  return permission === Permission.AccountCredentialsManage;
}

/** Whether a caller may use an account permission: a user, authenticated as `authentication`. */
export function accountCan(
  kind: PrincipalKind,
  permission: AccountPermission,
  authentication: Authentication,
): boolean {
  return kind === PrincipalKind.USER && !withheld(authentication, permission);
}
