import { AccessLevel } from '../entities/project-grant.entity';
import { OrganizationRole } from '../entities/user-role.entity';
import {
  accessCan,
  effectiveAccess,
  Permission,
  PrincipalKind,
  type Principal,
  type ProjectPermission,
} from '../permissions';

/**
 * Where a principal's organization roles and project grants are: a user's in `user_roles`, a
 * service account's in its own row (it belongs to one organization); both kinds' grants in
 * `permissions`, in a column each. Every statement that decides a caller's access reads through
 * these names, so users and service accounts are decided by the same SQL.
 */
export interface PrincipalTables {
  /** The table holding `organization_id` and `role` per principal. */
  roles: string;
  /** Its column naming the principal. */
  roleHolder: string;
  /** The column of `permissions` naming the principal. */
  grantee: string;
}

const TABLES: Record<PrincipalKind, PrincipalTables> = {
  [PrincipalKind.USER]: { roles: 'platform.user_roles', roleHolder: 'user_id', grantee: 'user_id' },
  [PrincipalKind.SERVICE_ACCOUNT]: {
    roles: 'platform.service_accounts',
    roleHolder: 'id',
    grantee: 'service_account_id',
  },
};

/** The tables of a caller's kind; an anonymous caller reads as a user that matches nothing. */
export function tablesOf(principal: Principal | null): PrincipalTables {
  return TABLES[principal?.kind ?? PrincipalKind.USER];
}

interface Holders {
  /** Roles whose organization role alone gives the permission on every project. */
  roles: OrganizationRole[];
  /** `role:level` pairs where a grant of that level, held with that role, gives it. */
  grants: string[];
}

/** Who holds each project permission, read off the matrix once, as SQL wants it. */
const HOLDERS = new Map<ProjectPermission, Holders>();

function holdersOf(permission: ProjectPermission): Holders {
  let holders = HOLDERS.get(permission);
  if (!holders) {
    const roles = Object.values(OrganizationRole);
    const levels = Object.values(AccessLevel);
    holders = {
      roles: roles.filter((role) => accessCan(effectiveAccess(role, null), permission)),
      grants: roles.flatMap((role) =>
        levels
          .filter((level) => accessCan(effectiveAccess(role, level), permission))
          .map((level) => `${role}:${level}`),
      ),
    };
    HOLDERS.set(permission, holders);
  }
  return holders;
}

export interface CallerOnProject {
  /** The project's alias in the statement. */
  project: string;
  /** The SQL expression of the caller's role in the project's organization (NULL: no member). */
  role: string;
  /** The placeholder of the caller's id. */
  viewer: string;
  /** The caller's kind: which column of `permissions` names them. */
  tables: PrincipalTables;
}

/**
 * The one SQL form of the matrix for projects: the caller holds `permission` on the project, by
 * their organization role or by a grant that role may hold. Built from `permissions.ts`, so the
 * SQL and the access decisions cannot disagree. `add` appends a parameter and returns its placeholder.
 */
export function callerMay(permission: ProjectPermission, on: CallerOnProject, add: (value: unknown) => string): string {
  const { roles, grants } = holdersOf(permission);
  return `(${on.role} = ANY(${add(roles)}::text[]) OR EXISTS (
    SELECT 1 FROM platform.permissions g WHERE g.project_id = ${on.project}.id AND g.${on.tables.grantee} = ${on.viewer}
      AND (${on.role} || ':' || g.access_level) = ANY(${add(grants)}::text[])))`;
}

/** Projects the caller sees. */
export function callerSees(on: CallerOnProject, add: (value: unknown) => string): string {
  return callerMay(Permission.ProjectRead, on, add);
}

/** A parameter list and the function that appends to it. */
export function parameters(initial: unknown[] = []): { params: unknown[]; add: (value: unknown) => string } {
  const params = [...initial];
  return { params, add: (value) => `$${params.push(value)}` };
}
