import { getMetadataStorage } from 'type-graphql';
import { Authentication, WITHHELD_FROM, type Permission } from '../permissions';
import { PublicResolver } from './public.resolver';

export interface AccessRule {
  /** `Query.organization`, `Mutation.createProject`, `ProjectCredentials.jwtSecret`… */
  field: string;
  /**
   * The permission keys required, `signed-in` for any caller with a token, `public` for anyone;
   * marked when a request made with an API key is refused it whatever its role.
   */
  requires: string;
}

const API_KEY_WITHHELD: readonly Permission[] = WITHHELD_FROM[Authentication.API_KEY];

/**
 * Who can reach each operation and resolved field, read from the resolvers' own
 * declarations (after the schema is built). The snapshot of this list is the reviewable
 * record of who can do what.
 */
export function accessRules(): AccessRule[] {
  const storage = getMetadataStorage();
  const typeName = (target: unknown) =>
    storage.objectTypes.find((type) => type.target === target)?.name ?? '<unknown type>';
  const withheld = (roles: unknown[]) => roles.some((role) => API_KEY_WITHHELD.includes(role as Permission));
  const requires = (roles: unknown[] | undefined) =>
    roles === undefined
      ? 'public'
      : roles.length === 0
        ? 'signed-in'
        : `${roles.map(String).join(' + ')}${withheld(roles) ? ', not with an API key' : ''}`;
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
