import type { AccessLevel } from '../entities/project-grant.entity';
import type { Organization } from '../entities/organization.entity';
import type { Project } from '../entities/project.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import type { PlatformRole } from '../entities/user.entity';
import { ForbiddenError, NotFoundError, OrganizationSuspendedError } from '../errors';
import {
  accountCan,
  type AccountPermission,
  accessCan,
  effectiveAccess,
  Permission,
  platformRoleCan,
  roleCan,
  type Authentication,
  type OrganizationPermission,
  type PlatformPermission,
  type ProjectPermission,
} from '../permissions';
import type { OrganizationDetails } from '../repositories/organization-details';
import { requireViewer, type RequestContext } from '../request/context';

/** An organization by id or slug, or as the one a service account or an API key belongs to. */
export type OrganizationLocator =
  | { id: string }
  | { slug: string }
  | { serviceAccountId: string }
  | { apiKeyId: string }
  | { invitationId: string }
  | { webhookId: string }
  | { webhookDeliveryId: string };
export type ProjectLocator = { id: string } | { ref: string };

export interface OrganizationAccess {
  organization: Organization;
  role: OrganizationRole;
  /** How the caller authenticated: what the role gives depends on it too (see `WITHHELD_FROM`). */
  authentication: Authentication;
}

export interface ProjectAccess {
  project: Project;
  role: OrganizationRole;
  level: AccessLevel;
  authentication: Authentication;
}

/**
 * What a field's guard decided about the caller and one organization: taken once, handed to the
 * resolver (`@Granted()`), and from there to the service, which does not ask again. Deny by
 * default; "absent" and "not yours" are the same NOT_FOUND, so an outsider cannot tell that a
 * foreign organization exists. FORBIDDEN is only for what the caller can see but may not do.
 */
export class OrganizationDecision {
  readonly kind = 'organization';
  private decided?: Promise<OrganizationAccess>;

  constructor(
    private readonly ctx: RequestContext,
    readonly locator: OrganizationLocator,
    readonly permission: OrganizationPermission,
    /** What the query reads with the organization, when this is the field that returns it. */
    private readonly details: OrganizationDetails | null = null,
    /** Whether a deleted organization is seen (by its owners, to undelete it). */
    private readonly seesDeleted = false,
  ) {}

  /** The organization and the caller's role in it, or the typed refusal. */
  get(): Promise<OrganizationAccess> {
    return (this.decided ??= this.decide());
  }

  private async decide(): Promise<OrganizationAccess> {
    const { ctx, permission } = this;
    const { authentication } = requireViewer(ctx);
    const locator = await this.organizationLocator();
    const found = locator && (await ctx.loaders.organizationAccess(locator, this.details));
    const hidden = found?.organization.deletedAt && !(this.seesDeleted && ownerOf(found.role));
    if (!found || hidden) throw this.notFound();
    if (!roleCan(found.role, permission, authentication)) throw new ForbiddenError();
    return { ...found, authentication };
  }

  /** The organization's id or slug; for a service account or key, the organization it belongs to (null: none). */
  private async organizationLocator(): Promise<{ id: string } | { slug: string } | null> {
    const { locator, ctx } = this;
    if ('serviceAccountId' in locator) return ctx.loaders.organizationOfServiceAccount(locator.serviceAccountId);
    if ('apiKeyId' in locator) return ctx.loaders.organizationOfApiKey(locator.apiKeyId);
    if ('invitationId' in locator) return ctx.loaders.organizationOfInvitation(locator.invitationId);
    if ('webhookId' in locator) return ctx.loaders.organizationOfWebhook({ webhookId: locator.webhookId });
    if ('webhookDeliveryId' in locator) {
      return ctx.loaders.organizationOfWebhook({ deliveryId: locator.webhookDeliveryId });
    }
    return locator;
  }

  /** "Absent" and "not yours" alike, naming what the caller named. */
  private notFound(): NotFoundError {
    const { locator } = this;
    if ('serviceAccountId' in locator) return new NotFoundError('Service account');
    if ('apiKeyId' in locator) return new NotFoundError('API key');
    if ('invitationId' in locator) return new NotFoundError('Invitation');
    if ('webhookId' in locator) return new NotFoundError('Webhook');
    if ('webhookDeliveryId' in locator) return new NotFoundError('Webhook delivery');
    return new NotFoundError('Organization', 'slug' in locator ? locator.slug : undefined);
  }
}

/** The same, for one project: what the caller's organization role and project grant give. */
export class ProjectDecision {
  readonly kind = 'project';
  private decided?: Promise<ProjectAccess>;

  constructor(
    private readonly ctx: RequestContext,
    readonly locator: ProjectLocator,
    readonly permission: ProjectPermission,
    /** Whether a deleted project is seen (by its organization's owners, to undelete it). */
    private readonly seesDeleted = false,
  ) {}

  get(): Promise<ProjectAccess> {
    return (this.decided ??= this.decide());
  }

  /**
   * The refusal a write that matched no row stands for: the project is gone, hidden, not the
   * caller's to change, or its organization is suspended.
   */
  async refusal(): Promise<Error> {
    this.decided = undefined;
    try {
      await this.get();
      const found = await this.ctx.loaders.projectAccess(this.locator);
      if (found?.organizationSuspension) return new OrganizationSuspendedError(found.organizationSuspension);
      return new NotFoundError('Project', 'ref' in this.locator ? this.locator.ref : undefined);
    } catch (error) {
      return error as Error;
    }
  }

  private async decide(): Promise<ProjectAccess> {
    const { ctx, locator, permission } = this;
    const { authentication } = requireViewer(ctx);
    const found = await ctx.loaders.projectAccess(locator);
    const level = found ? effectiveAccess(found.role, found.grant) : null;
    const hidden =
      found && (found.organizationDeleted || (found.project.deletedAt && !(this.seesDeleted && ownerOf(found.role))));
    if (!found || !found.role || !level || hidden) {
      throw new NotFoundError('Project', 'ref' in locator ? locator.ref : undefined);
    }
    if (!accessCan(level, permission, authentication)) throw new ForbiddenError();
    return { project: found.project, role: found.role, level, authentication };
  }
}

/**
 * The same, for the operator's part of the schema: the caller's platform role, read on every
 * request that asks (a revoked admin loses it at once). Anyone signed in without the role is
 * FORBIDDEN: that the platform part exists is no secret.
 */
export class PlatformDecision {
  readonly kind = 'platform';
  private decided?: Promise<PlatformRole>;

  constructor(
    private readonly ctx: RequestContext,
    readonly permission: PlatformPermission,
  ) {}

  get(): Promise<PlatformRole> {
    return (this.decided ??= this.decide());
  }

  private async decide(): Promise<PlatformRole> {
    const { authentication } = requireViewer(this.ctx);
    const role = await this.ctx.loaders.myPlatformRole();
    if (role && platformRoleCan(role, this.permission)) {
      if (platformRoleCan(role, this.permission, authentication)) return role;
      throw new ForbiddenError('A platform admin does this signed in with a password, not with a token or key');
    }
    throw new ForbiddenError(
      role ? 'Platform viewers read; only a platform admin may do this' : 'Only platform admins may do this',
    );
  }
}

/** The caller's own account: a user signed in with a session (never a token or key). */
export class AccountDecision {
  readonly kind = 'account';

  constructor(
    private readonly ctx: RequestContext,
    readonly permission: AccountPermission,
  ) {}

  get(): Promise<string> {
    const { principal, authentication } = requireViewer(this.ctx);
    if (!accountCan(principal.kind, this.permission, authentication)) {
      return Promise.reject(
        new ForbiddenError('Sessions and passwords are managed signed in with a password, not with a token or key'),
      );
    }
    return Promise.resolve(principal.id);
  }
}

export type AccessDecision = OrganizationDecision | ProjectDecision | PlatformDecision | AccountDecision;

/** Deleted things are seen by the organization's owners alone: those who may delete the organization. */
function ownerOf(role: OrganizationRole | null): boolean {
  return roleCan(role, Permission.OrganizationDelete);
}
