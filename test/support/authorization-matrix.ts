import { getMetadataStorage } from 'type-graphql';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ACCESS_LEVEL_PERMISSIONS,
  accessAtLeast,
  Authentication,
  MAX_GRANTABLE_ACCESS,
  PLATFORM_ROLE_PERMISSIONS,
  ROLE_PERMISSIONS,
  Permission,
  WITHHELD_FROM,
} from '../../src/permissions';
import { PlatformRole } from '../../src/entities/user.entity';
import { given, ok, type Level, type TestOrganization, type TestProject, type TestUser } from './given';
import type { TestApp } from './server';
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
  /**
   * A service account calling with an API key, rather than a user: a valid key, one that expired
   * or was revoked, or a valid key of a service account of another organization.
   */
  key?: 'valid' | 'expired' | 'revoked' | 'foreign';
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
  // Service accounts, through their API keys: never owners, granted like members.
  ...[
    { role: OrganizationRole.ADMIN, grant: null },
    { role: OrganizationRole.MEMBER, grant: null },
    { role: OrganizationRole.MEMBER, grant: AccessLevel.WRITE },
    { role: OrganizationRole.VIEWER, grant: null },
    { role: OrganizationRole.VIEWER, grant: AccessLevel.READ },
  ].map(({ role, grant }) => ({
    name: `${article(role)} service account${
      IMPLIED_ACCESS[role] ? '' : grant ? ` with ${grant} access` : ' with no project grant'
    }`,
    role,
    grant,
    signedIn: true,
    key: 'valid' as const,
  })),
  {
    name: "an admin service account's expired key",
    role: OrganizationRole.ADMIN,
    grant: null,
    signedIn: true,
    key: 'expired',
  },
  {
    name: "an admin service account's revoked key",
    role: OrganizationRole.ADMIN,
    grant: null,
    signedIn: true,
    key: 'revoked',
  },
  {
    name: "a key of another organization's admin service account",
    role: null,
    grant: null,
    signedIn: true,
    key: 'foreign',
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
  options: { deleted?: boolean; usersOnly?: boolean } = {},
): Outcome {
  if (!actor.signedIn || actor.key === 'expired' || actor.key === 'revoked') return 'UNAUTHENTICATED';
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
  // What a request made with an API key never gets, whatever the role (a key cannot make keys).
  const withheld: readonly Permission[] = actor.key ? WITHHELD_FROM[Authentication.API_KEY] : [];
  const held: readonly Permission[] = [
    ...ROLE_PERMISSIONS[actor.role],
    ...(level ? ACCESS_LEVEL_PERMISSIONS[level] : []),
  ].filter((permission) => !withheld.includes(permission));
  if (!needs.every((permission) => held.includes(permission))) return 'FORBIDDEN';
  // What only a person may do (leave an organization): a service account is refused it.
  return options.usersOnly && actor.key ? 'FORBIDDEN' : 'OK';
}

/**
 * The caller an API-key actor is in `organization`: a service account with the actor's role and
 * grants on `projects`, made by `founder`, and a key in the actor's state (for a foreign key, a
 * service account of an organization of its own). Shaped as a user: its token is the key's secret.
 */
export async function serviceAccountCaller(
  app: TestApp,
  actor: Actor,
  scene: { organization: TestOrganization; founder: TestUser; projects: readonly TestProject[] },
): Promise<TestUser> {
  const make = given(app);
  const { founder, projects } = scene;
  const organization = actor.key === 'foreign' ? await make.organization({ owner: founder }) : scene.organization;
  const role = (actor.role ?? OrganizationRole.ADMIN).toUpperCase() as 'ADMIN' | 'MEMBER' | 'VIEWER';
  const account = await make.serviceAccount({ organization, role, by: founder });
  if (actor.grant && actor.key !== 'foreign') {
    const level = actor.grant.toUpperCase() as Level;
    for (const project of projects)
      await make.grantServiceAccount({ project, serviceAccount: account, level, by: founder });
  }
  const expiresAt = actor.key === 'expired' ? new Date(Date.now() + 1000) : undefined;
  const key = await make.apiKey({ serviceAccount: account, by: founder, expiresAt });
  if (actor.key === 'revoked') {
    ok(await app.gql('mutation ($id: ID!) { revokeApiKey(id: $id) }', { id: key.id }, founder.token));
  }
  if (expiresAt) await sleep(Math.max(0, expiresAt.getTime() - Date.now() + 50));
  return { id: account.id, email: '', password: '', token: key.secret };
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
