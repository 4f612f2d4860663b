import { getMetadataStorage } from 'type-graphql';
import { Authentication, WITHHELD_FROM, type Permission } from '../permissions';
import { PublicResolver } from './public.resolver';

export interface AccessRule {
  /** `Query.organization`, `Mutation.createProject`, `ProjectCredentials.jwtSecret`… */
  field: string;
  /**
   * The permission keys required, `signed-in` for any caller with a token, `public` for anyone;
   * marked when a request made with a personal access token or an API key is refused it whatever its role.
   */
  requires: string;
}

/** How each credential that can be refused is named in the list. */
const CREDENTIALS: readonly [Authentication, string][] = [
  [Authentication.PERSONAL_ACCESS_TOKEN, 'a personal access token'],
  [Authentication.API_KEY, 'an API key'],
];

/** ", not with …" naming the credentials refused one of `roles` whatever the role; '' for none. */
function refusedCredentials(roles: unknown[]): string {
  const refused = CREDENTIALS.filter(([authentication]) =>
    roles.some((role) => (WITHHELD_FROM[authentication] as readonly Permission[]).includes(role as Permission)),
  ).map(([, name]) => name);
  return refused.length ? `, not with ${refused.join(' or ')}` : '';
}

/**
 * Who can reach each operation and resolved field, read from the resolvers' own
 * declarations (after the schema is built). The snapshot of this list is the reviewable
 * record of who can do what.
 */
export function accessRules(): AccessRule[] {
  const storage = getMetadataStorage();
  const typeName = (target: unknown) =>
    storage.objectTypes.find((type) => type.target === target)?.name ?? '<unknown type>';
  const requires = (roles: unknown[] | undefined) =>
    roles === undefined
      ? 'public'
      : roles.length === 0
        ? 'signed-in'
        : `${roles.map(String).join(' + ')}${refusedCredentials(roles)}`;
  const rules: AccessRule[] = [
    ...storage.queries.map((q) => ({ field: `Query.${q.schemaName}`, requires: requires(q.roles) })),
    ...storage.mutations.map((m) => ({ field: `Mutation.${m.schemaName}`, requires: requires(m.roles) })),
    ...storage.fieldResolvers
      .filter((f) => f.kind === 'external')
      .map((f) => ({ field: `${typeName(f.getObjectType?.())}.${f.schemaName}`, requires: requires(f.roles) })),
  ];
  return rules.sort((a, b) => a.field.localeCompare(b.field));
}

/** Operations open to anyone must live in PublicResolver, which says so. */
export function unintendedPublicOperations(): string[] {
  const storage = getMetadataStorage();
  return [...storage.queries, ...storage.mutations]
    .filter((op) => op.roles === undefined && op.target !== PublicResolver)
    .map((op) => op.schemaName);
}
