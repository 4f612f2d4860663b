import { AccessLevel } from '../entities/project-grant.entity';
import { OrganizationRole } from '../entities/user-role.entity';
import { accessCan, effectiveAccess, Permission, type ProjectPermission } from '../permissions';

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
  /** The placeholder of the caller's user id. */
  viewer: string;
}

/**
 * The one SQL form of the matrix for projects: the caller holds `permission` on the project, by
 * their organization role or by a grant that role may hold. Built from `permissions.ts`, so the
 * SQL and the access decisions cannot disagree. `add` appends a parameter and returns its placeholder.
 */
export function callerMay(permission: ProjectPermission, on: CallerOnProject, add: (value: unknown) => string): string {
  const { roles, grants } = holdersOf(permission);
  return `(${on.role} = ANY(${add(roles)}::text[]) OR EXISTS (
    SELECT 1 FROM permissions g WHERE g.project_id = ${on.project}.id AND g.user_id = ${on.viewer}
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
