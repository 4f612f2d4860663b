import type { Organization } from '../entities/organization.entity';
import type { ServiceAccount } from '../entities/service-account.entity';
import type { User } from '../entities/user.entity';
import { UnauthenticatedError } from '../errors';
import { PrincipalKind } from '../permissions';
import { requireViewer, type RequestContext } from '../request/context';
import type { ViewerView } from '../types/machine-access.types';

export class ViewerService {
  /** Who the caller is: a user, or a service account (with its organization), and how it signed in. */
  whoami(ctx: RequestContext): ViewerView {
    const { principal, authentication, organizationId } = requireViewer(ctx);
    const user = principal.kind === PrincipalKind.USER;
    return {
      id: principal.id,
      kind: principal.kind,
      authentication,
      userId: user ? principal.id : null,
      serviceAccountId: user ? null : principal.id,
      organizationId,
    };
  }

  async user(ctx: RequestContext, viewer: ViewerView): Promise<User | null> {
    if (!viewer.userId) return null;
    const user = await ctx.loaders.userById.load(viewer.userId);
    // A valid token for a deleted account is no longer a session.
    if (!user) throw new UnauthenticatedError();
    return user;
  }

  async serviceAccount(ctx: RequestContext, viewer: ViewerView): Promise<ServiceAccount | null> {
    if (!viewer.serviceAccountId) return null;
    const account = await ctx.loaders.serviceAccountById.load(viewer.serviceAccountId);
    if (!account) throw new UnauthenticatedError();
    return account;
  }

  /** The service account's organization, decided as every read of it is (null once deleted). */
  async organization(ctx: RequestContext, viewer: ViewerView): Promise<Organization | null> {
    if (!viewer.organizationId) return null;
    const found = await ctx.loaders.organizationAccess({ id: viewer.organizationId });
    return found && !found.organization.deletedAt ? found.organization : null;
  }
}

export const viewerService = new ViewerService();
