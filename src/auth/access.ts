import type { AccessLevel } from '../entities/permission.entity';
import type { Organization } from '../entities/organization.entity';
import type { Project } from '../entities/project.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import { ForbiddenError, NotFoundError } from '../errors';
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
  const organization =
    'id' in locator
      ? await ctx.loaders.organizationById.load(locator.id)
      : await ctx.loaders.organizationBySlug.load(locator.slug);
  const role = organization ? await ctx.loaders.myRole.load(organization.id) : null;
  if (!organization || !role) throw new NotFoundError('Organization', 'slug' in locator ? locator.slug : undefined);
  if (!roleCan(role, permission)) throw new ForbiddenError();
  return { organization, role };
}

export async function projectAccess(
  ctx: RequestContext,
  locator: ProjectLocator,
  permission: ProjectPermission,
): Promise<ProjectAccess> {
  requireViewer(ctx);
  const project =
    'id' in locator ? await ctx.loaders.projectById.load(locator.id) : await ctx.loaders.projectByRef.load(locator.ref);
  const [role, grant] = project
    ? await Promise.all([ctx.loaders.myRole.load(project.organizationId), ctx.loaders.myGrant.load(project.id)])
    : [null, null];
  const level = effectiveAccess(role, grant);
  if (!project || !role || !level) throw new NotFoundError('Project', 'ref' in locator ? locator.ref : undefined);
  if (!accessCan(level, permission)) throw new ForbiddenError();
  return { project, role, level };
}
