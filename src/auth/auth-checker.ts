import { getNamedType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { createParameterDecorator, type AuthChecker, type ResolverData } from 'type-graphql';
import { Organization } from '../entities/organization.entity';
import { Project } from '../entities/project.entity';
import { organizationDetails } from '../graphql/look-ahead';
import { isAccountPermission, isPlatformPermission, isProjectPermission, type Permission } from '../permissions';
import { requireViewer, type RequestContext } from '../request/context';
import {
  AccountDecision,
  OrganizationDecision,
  PlatformDecision,
  ProjectDecision,
  type AccessDecision,
  type OrganizationLocator,
  type ProjectLocator,
} from './access';

type Args = Record<string, unknown> & { input?: Record<string, unknown> };

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Which organization a guarded field is about: the parent object for fields of an
 * organization-owned type, else the `slug`/`organizationSlug` argument (or input field).
 */
export function locateOrganization(root: unknown, args: Args): OrganizationLocator | undefined {
  if (root instanceof Organization) return { id: root.id };
  const owned = text((root as { organizationId?: unknown } | undefined)?.organizationId);
  if (owned) return { id: owned };
  const slug = text(args.slug) ?? text(args.organizationSlug) ?? text(args.input?.organizationSlug);
  // An empty slug names an organization too (one that does not exist): NOT_FOUND, not a server error.
  if (slug !== undefined) return { slug };
  const serviceAccountId = text(args.serviceAccountId) ?? text(args.input?.serviceAccountId);
  return serviceAccountId !== undefined ? { serviceAccountId } : undefined;
}

/** Mutations whose `id` argument names a service account or an API key (see `LocatedBy`). */
type LocatedKind = 'serviceAccount' | 'apiKey' | 'invitation' | 'webhook' | 'webhookDelivery';
const locatedBy = new Map<string, LocatedKind>();

/** Marks a mutation whose `id` argument names what it acts on: its organization is the one that thing belongs to. */
export function LocatedBy(kind: LocatedKind): MethodDecorator {
  return (_target, name) => {
    locatedBy.set(String(name), kind);
  };
}

function locateByMark(info: GraphQLResolveInfo, args: Args): OrganizationLocator | undefined {
  const kind = info.parentType === info.schema.getMutationType() ? locatedBy.get(info.fieldName) : undefined;
  const id = text(args.id);
  if (!kind || id === undefined) return undefined;
  if (kind === 'invitation') return { invitationId: id };
  if (kind === 'webhook') return { webhookId: id };
  if (kind === 'webhookDelivery') return { webhookDeliveryId: id };
  return kind === 'serviceAccount' ? { serviceAccountId: id } : { apiKeyId: id };
}

/** Which project a guarded field is about: the parent object, else the `ref`/`projectRef` argument. */
export function locateProject(root: unknown, args: Args): ProjectLocator | undefined {
  if (root instanceof Project) return { id: root.id };
  const owned = text((root as { projectId?: unknown } | undefined)?.projectId);
  if (owned) return { id: owned };
  const ref = text(args.ref) ?? text(args.projectRef) ?? text(args.input?.projectRef);
  return ref !== undefined ? { ref } : undefined;
}

/** Mutations whose service checks the permission in its own write statement (see `CheckedInWrite`). */
const checkedInWrite = new Set<string>();

/** Mutations that act on a deleted organization or project (see `SeesDeleted`). */
const seesDeleted = new Set<string>();

/** Marks a mutation whose resource may be deleted: its decision sees it, for the organization's owners alone. */
export function SeesDeleted(): MethodDecorator {
  return (_target, name) => {
    seesDeleted.add(String(name));
  };
}

/**
 * The marks are kept by method name and checked against the field's name: a mutation renamed in
 * the schema (`@Mutation({ name })`) would silently lose its mark, so the schema is refused instead.
 */
export function assertMarkedMutationsExist(schema: GraphQLSchema): void {
  const fields = schema.getMutationType()?.getFields() ?? {};
  const missing = [...checkedInWrite, ...seesDeleted, ...locatedBy.keys()].filter((name) => !(name in fields));
  if (missing.length) throw new Error(`Marked mutations that the schema does not have: ${missing.join(', ')}`);
}

function decidedInWrite(info: GraphQLResolveInfo): boolean {
  return info.parentType === info.schema.getMutationType() && checkedInWrite.has(info.fieldName);
}

/**
 * Marks a mutation whose service carries the permission check in the statement that writes, so
 * that a simple change costs one statement instead of a read and a write. Its decision is taken
 * there; a write that matches nothing answers the same NOT_FOUND or FORBIDDEN the guard would.
 */
export function CheckedInWrite(): MethodDecorator {
  return (_target, name) => {
    checkedInWrite.add(String(name));
  };
}

/**
 * A guarded field's decision travels on the resolver data that its guard and its resolver share
 * (type-graphql passes the one object to both). A WeakMap side table would give the garbage
 * collector an ephemeron to trace for every guarded field of every request.
 */
const DECISION = Symbol('access decision');
type Guarded = ResolverData<RequestContext> & { [DECISION]?: AccessDecision };

function decide({ root, args, context, info }: ResolverData<RequestContext>, permission: Permission): AccessDecision {
  const where = `${info.parentType.name}.${info.fieldName}`;
  if (isPlatformPermission(permission)) return new PlatformDecision(context, permission);
  if (isAccountPermission(permission)) return new AccountDecision(context, permission);
  if (isProjectPermission(permission)) {
    const locator = locateProject(root, args);
    if (!locator) throw new Error(`${where} requires ${permission} but names no project`);
    return new ProjectDecision(context, locator, permission, deletedSeen(info));
  }
  const locator = locateByMark(info, args) ?? locateOrganization(root, args);
  if (!locator) throw new Error(`${where} requires ${permission} but names no organization`);
  // The organization a root field returns is read with what its selection asks for, in one statement.
  const returnsOrganization = root === undefined && getNamedType(info.returnType).name === 'Organization';
  const details = returnsOrganization ? organizationDetails(context, info) : null;
  return new OrganizationDecision(context, locator, permission, details, deletedSeen(info));
}

function deletedSeen(info: GraphQLResolveInfo): boolean {
  return info.parentType === info.schema.getMutationType() && seesDeleted.has(info.fieldName);
}

/**
 * `@Authorized()` needs a signed-in caller; `@Authorized(Permission.X)` also needs X on the
 * resource the field is about, decided here before the resolver runs (but for `CheckedInWrite`
 * mutations), with the typed errors (UNAUTHENTICATED, NOT_FOUND, FORBIDDEN) rather than
 * type-graphql's generic "Access denied".
 */
export const authChecker: AuthChecker<RequestContext, Permission> = async (data, permissions) => {
  requireViewer(data.context);
  for (const permission of permissions) {
    const decision = decide(data, permission);
    (data as Guarded)[DECISION] = decision;
    if (!decidedInWrite(data.info)) await decision.get();
  }
  return true;
};

/** The decision this field's guard took, for its resolver to hand on to the service. */
export function Granted() {
  return createParameterDecorator<RequestContext>((data) => {
    const decision = (data as Guarded)[DECISION];
    if (!decision)
      throw new Error(`${data.info.parentType.name}.${data.info.fieldName} has no guard with a permission`);
    return decision;
  });
}
