import { getMetadataStorage } from 'type-graphql';
import {
  ACCESS_LEVEL_PERMISSIONS,
  accessAtLeast,
  MAX_GRANTABLE_ACCESS,
  PLATFORM_ROLE_PERMISSIONS,
  ROLE_PERMISSIONS,
  Permission,
} from '../../src/permissions';
import { PlatformRole } from '../../src/entities/user.entity';
import { AccessLevel } from '../../src/entities/project-grant.entity';
import { OrganizationRole } from '../../src/entities/user-role.entity';

/**
 * The authorization tests' oracle, shared by test/api/authorization.test.ts and
 * test/security/authorization-schema.test.ts: who acts, and what each attempt must end in,
 * worked out from the permission matrix alone.
 */

export type Outcome = 'OK' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND';

export interface Actor {
  name: string;
  /** The role in the organization acted on; null for callers from outside it. */
  role: OrganizationRole | null;
  /** The grant on the projects acted on. */
  grant: AccessLevel | null;
  signedIn: boolean;
  /** The operator's role, granted from the command line; it makes nobody a member of anything. */
  platformRole?: PlatformRole;
}

/** Owners and admins hold admin access on every project; members and viewers only what they are granted. */
const IMPLIED_ACCESS: Partial<Record<OrganizationRole, AccessLevel>> = {
  [OrganizationRole.OWNER]: AccessLevel.ADMIN,
  [OrganizationRole.ADMIN]: AccessLevel.ADMIN,
};

export function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

const ROLES = Object.values(OrganizationRole);
const GRANTED_ROLES = ROLES.filter((role) => IMPLIED_ACCESS[role] === undefined);

export const ACTORS: readonly Actor[] = [
  ...ROLES.map((role) => ({
    name: GRANTED_ROLES.includes(role) ? `${article(role)} with no project grant` : article(role),
    role,
    grant: null,
    signedIn: true,
  })),
  // A viewer can be granted at most read access.
  ...GRANTED_ROLES.flatMap((role) =>
    Object.values(AccessLevel)
      .filter((level) => accessAtLeast(MAX_GRANTABLE_ACCESS[role], level))
      .map((grant) => ({ name: `${article(role)} with ${grant} access`, role, grant, signedIn: true })),
  ),
  { name: 'an outsider', role: null, grant: null, signedIn: true },
  { name: 'an anonymous caller', role: null, grant: null, signedIn: false },
  // The operator's staff, from outside the organization and from inside it.
  {
    name: 'a platform admin from outside',
    role: null,
    grant: null,
    signedIn: true,
    platformRole: PlatformRole.PLATFORM_ADMIN,
  },
  {
    name: 'a platform viewer from outside',
    role: null,
    grant: null,
    signedIn: true,
    platformRole: PlatformRole.PLATFORM_VIEWER,
  },
  {
    name: 'a viewer who is a platform admin',
    role: OrganizationRole.VIEWER,
    grant: null,
    signedIn: true,
    platformRole: PlatformRole.PLATFORM_ADMIN,
  },
  {
    name: 'an owner who is a platform viewer',
    role: OrganizationRole.OWNER,
    grant: null,
    signedIn: true,
    platformRole: PlatformRole.PLATFORM_VIEWER,
  },
];

/**
 * What an actor's attempt at something needing `needs`, on an organization or one of its
 * projects, must end in: anonymous callers must sign in; for outsiders, and for members on a
 * project they hold no access to, the resource does not exist; what is visible but not
 * permitted is FORBIDDEN. (Organization and project permissions are disjoint, so holding both
 * sets never grants more than the scope allows.)
 */
export function expectedOutcome(
  actor: Actor,
  scope: 'organization' | 'project' | 'platform',
  needs: readonly Permission[],
  options: { deleted?: boolean } = {},
): Outcome {
  if (!actor.signedIn) return 'UNAUTHENTICATED';
  // The platform part answers to the platform role alone; that the part exists is no secret.
  if (scope === 'platform') {
    const held: readonly Permission[] = actor.platformRole ? PLATFORM_ROLE_PERMISSIONS[actor.platformRole] : [];
    return needs.every((permission) => held.includes(permission)) ? 'OK' : 'FORBIDDEN';
  }
  // A platform role grants nothing in an organization: below, only the organization role and grant count.
  if (actor.role === null) return 'NOT_FOUND';
  // Something deleted is seen by the organization's owners alone (those who may delete it).
  if (options.deleted && !ROLE_PERMISSIONS[actor.role].some((p) => p === Permission.OrganizationDelete)) {
    return 'NOT_FOUND';
  }
  const level = IMPLIED_ACCESS[actor.role] ?? actor.grant;
  if (scope === 'project' && level === null) return 'NOT_FOUND';
  const held: readonly Permission[] = [
    ...ROLE_PERMISSIONS[actor.role],
    ...(level ? ACCESS_LEVEL_PERMISSIONS[level] : []),
  ];
  return needs.every((permission) => held.includes(permission)) ? 'OK' : 'FORBIDDEN';
}

/** Each guarded Query, Mutation and resolved field (Type.field), with the permissions its @Authorized(...) names. */
export function declaredGuards(): Map<string, Permission[]> {
  const storage = getMetadataStorage();
  const guards = new Map<string, Permission[]>();
  const add = (typeName: string | undefined, target: unknown, methodName: string, schemaName: string) => {
    const guard = storage.authorizedFields.find((field) => field.target === target && field.fieldName === methodName);
    const permissions = (guard?.roles ?? []) as Permission[];
    if (typeName && permissions.length > 0) guards.set(`${typeName}.${schemaName}`, permissions);
  };
  for (const query of storage.queries) add('Query', query.target, query.methodName, query.schemaName);
  for (const mutation of storage.mutations) add('Mutation', mutation.target, mutation.methodName, mutation.schemaName);
  for (const field of storage.fieldResolvers) {
    const type = field.getObjectType?.();
    const typeName = storage.objectTypes.find((objectType) => objectType.target === type)?.name;
    add(typeName, field.target, field.methodName, field.schemaName);
  }
  return guards;
}
