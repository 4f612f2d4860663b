import type { AccessLevel } from '../entities/permission.entity';
import type { Organization } from '../entities/organization.entity';
import type { Project } from '../entities/project.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import { ForbiddenError, NotFoundError } from '../errors';
import type { Loaders } from '../database/loaders';
import { requireViewer, type RequestContext } from './context';
import {
  accessCan,
  effectiveAccess,
  roleCan,
  type OrganizationPermission,
  type ProjectPermission,
} from './permissions';

export type OrganizationLocator = { id: string } | { slug: string };
export type ProjectLocator = { id: string } | { ref: string };

export interface OrganizationAccess {
  organization: Organization;
  role: OrganizationRole;
}

export interface ProjectAccess {
  project: Project;
  role: OrganizationRole;
  level: AccessLevel;
}

/**
 * The one access function. Deny by default; "absent" and "not yours" are the same
 * NOT_FOUND, so an outsider cannot tell that a foreign organization exists. FORBIDDEN is
 * only for what the caller can see but may not do.
 */
export async function organizationAccess(
  ctx: RequestContext,
  locator: OrganizationLocator,
  permission: OrganizationPermission,
): Promise<OrganizationAccess> {
  requireViewer(ctx);
  const found = await lookUp(ctx, 'id' in locator ? `o:id:${locator.id}` : `o:slug:${locator.slug}`, async () => {
    const organization =
      'id' in locator
        ? await ctx.loaders.organizationById.load(locator.id)
        : await ctx.loaders.organizationBySlug.load(locator.slug);
    const role = organization ? await ctx.loaders.myRole.load(organization.id) : null;
    return organization && role ? { organization, role } : null;
  });
  if (!found) throw new NotFoundError('Organization', 'slug' in locator ? locator.slug : undefined);
  if (!roleCan(found.role, permission)) throw new ForbiddenError();
  return found;
}

export async function projectAccess(
  ctx: RequestContext,
  locator: ProjectLocator,
  permission: ProjectPermission,
): Promise<ProjectAccess> {
  requireViewer(ctx);
  const found = await lookUp(ctx, 'id' in locator ? `p:id:${locator.id}` : `p:ref:${locator.ref}`, async () => {
    const project =
      'id' in locator
        ? await ctx.loaders.projectById.load(locator.id)
        : await ctx.loaders.projectByRef.load(locator.ref);
    if (!project) return null;
    const [role, grant] = await Promise.all([
      ctx.loaders.myRole.load(project.organizationId),
      ctx.loaders.myGrant.load(project.id),
    ]);
    const level = effectiveAccess(role, grant);
    return role && level ? { project, role, level } : null;
  });
  if (!found) throw new NotFoundError('Project', 'ref' in locator ? locator.ref : undefined);
  if (!accessCan(found.level, permission)) throw new ForbiddenError();
  return found;
}

/**
 * What the caller's access to a resource rests on, looked up once per request (per set of
 * loaders: a write starts a fresh set, and with it fresh lookups). The guard of a field and
 * the service behind it ask the same question; the second asker waits on the same promise.
 */
const lookUps = new WeakMap<Loaders, Map<string, Promise<unknown>>>();

function lookUp<T>(ctx: RequestContext, key: string, find: () => Promise<T>): Promise<T> {
  let known = lookUps.get(ctx.loaders);
  if (!known) lookUps.set(ctx.loaders, (known = new Map<string, Promise<unknown>>()));
  let found = known.get(key) as Promise<T> | undefined;
  if (!found) known.set(key, (found = find()));
  return found;
}
