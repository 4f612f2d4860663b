import { getNamedType } from 'graphql';
import type { AuthChecker, ResolverData } from 'type-graphql';
import { Organization } from '../entities/organization.entity';
import { Project } from '../entities/project.entity';
import { organizationAccess, projectAccess, type OrganizationLocator, type ProjectLocator } from './access';
import { requireViewer, type RequestContext } from './context';
import { organizationDetails } from '../resolvers/look-ahead';
import { isProjectPermission, type Permission } from './permissions';

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
  return slug !== undefined ? { slug } : undefined;
}

/** Which project a guarded field is about: the parent object, else the `ref`/`projectRef` argument. */
export function locateProject(root: unknown, args: Args): ProjectLocator | undefined {
  if (root instanceof Project) return { id: root.id };
  const owned = text((root as { projectId?: unknown } | undefined)?.projectId);
  if (owned) return { id: owned };
  const ref = text(args.ref) ?? text(args.projectRef) ?? text(args.input?.projectRef);
  return ref !== undefined ? { ref } : undefined;
}

/**
 * `@Authorized()` needs a signed-in caller; `@Authorized(Permission.X)` also needs X on the
 * resource the field is about. Failures throw the typed errors (UNAUTHENTICATED, NOT_FOUND,
 * FORBIDDEN) rather than type-graphql's generic "Access denied".
 */
export const authChecker: AuthChecker<RequestContext, Permission> = async (
  { root, args, context, info }: ResolverData<RequestContext>,
  permissions,
) => {
  requireViewer(context);
  for (const permission of permissions) {
    const where = `${info.parentType.name}.${info.fieldName}`;
    if (isProjectPermission(permission)) {
      const locator = locateProject(root, args);
      if (!locator) throw new Error(`${where} requires ${permission} but names no project`);
      await projectAccess(context, locator, permission);
    } else {
      const locator = locateOrganization(root, args);
      if (!locator) throw new Error(`${where} requires ${permission} but names no organization`);
      if (root === undefined && 'slug' in locator && getNamedType(info.returnType).name === 'Organization') {
        // The organization this root field returns: what its selection asks for is read in the same statement.
        const details = organizationDetails(context, info);
        if (details) context.loaders.wantOrganizationDetails('slug', locator.slug, details);
      }
      await organizationAccess(context, locator, permission);
    }
  }
  return true;
};
