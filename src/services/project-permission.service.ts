import { AUDIT_ACTIONS, diff } from '../audit/actions';
import { recordAudit } from './audit.service';
import { projectEvent } from './project.service';
import type { EntityManager } from 'typeorm';
import type { ProjectDecision } from '../auth/access';
import type { ProjectGrant } from '../entities/project-grant.entity';
import type { Project } from '../entities/project.entity';
import type { OrganizationRole } from '../entities/user-role.entity';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import { assertUuid } from '../inputs/ids';
import type { GrantProjectPermissionInput } from '../inputs/project.inputs';
import { accessAtLeast, MAX_GRANTABLE_ACCESS, PrincipalKind, type Principal } from '../permissions';
import { membershipRepository } from '../repositories/membership.repository';
import { projectGrantRepository } from '../repositories/project-grant.repository';
import { serviceAccountRepository } from '../repositories/service-account.repository';
import type { RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import type { Page } from '../types/connection.type';
import { lockLiveProject } from './organization-lock';

/** Who a grant or revocation names: a user or a service account, exactly one of the two. */
export function granteeOf(ids: { userId?: string | null; serviceAccountId?: string | null }): Principal {
  const { userId, serviceAccountId } = ids;
  if ((userId == null) === (serviceAccountId == null)) {
    throw BadUserInputError.field('userId', 'name either userId or serviceAccountId, not both');
  }
  if (userId != null) {
    assertUuid('userId', userId);
    return { kind: PrincipalKind.USER, id: userId };
  }
  assertUuid('serviceAccountId', serviceAccountId as string);
  return { kind: PrincipalKind.SERVICE_ACCOUNT, id: serviceAccountId as string };
}

/** The grantee's role in the project's organization, read under its lock; BAD_USER_INPUT when it has none. */
async function granteeRole(tx: EntityManager, project: Project, grantee: Principal): Promise<OrganizationRole> {
  if (grantee.kind === PrincipalKind.USER) {
    const member = await membershipRepository.find(tx, project.organizationId, grantee.id);
    if (!member) throw BadUserInputError.field('userId', "userId must be a member of the project's organization");
    return member.role;
  }
  const account = await serviceAccountRepository.forUpdate(tx, grantee.id);
  if (account?.organizationId !== project.organizationId) {
    throw BadUserInputError.field(
      'serviceAccountId',
      "serviceAccountId must be a service account of the project's organization",
    );
  }
  return account.role;
}

export class ProjectPermissionService {
  async list(
    ctx: RequestContext,
    project: Project,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<ProjectGrant>> {
    const window = pageRequest(ctx, first, after);
    const { rows, totalCount } = await ctx.loaders.grantPages.load({ ownerId: project.id, window });
    return toPage(rows, window.limit, totalCount);
  }

  /**
   * Grants (or changes) a member's or a service account's access. Only principals of the project's
   * organization can be granted, a viewer at most read, and nobody grants more than they hold.
   */
  async grant(ctx: RequestContext, access: ProjectDecision, input: GrantProjectPermissionInput): Promise<ProjectGrant> {
    const grantee = granteeOf(input);
    const { project, level } = await access.get();
    if (!accessAtLeast(level, input.accessLevel))
      throw new ForbiddenError('You cannot grant more access than you hold');
    return inTransaction(ctx, async (tx) => {
      // Serialized with membership changes, so that a grant cannot outlive a racing removal.
      await lockLiveProject(tx, project);
      const role = await granteeRole(tx, project, grantee);
      if (!accessAtLeast(MAX_GRANTABLE_ACCESS[role], input.accessLevel)) {
        throw BadUserInputError.field(
          'accessLevel',
          `a ${role} can be granted at most ${MAX_GRANTABLE_ACCESS[role]} access`,
        );
      }
      const { grant, previous } = await projectGrantRepository.upsert(tx, project.id, grantee, input.accessLevel);
      await recordAudit(ctx, tx, {
        ...projectEvent(AUDIT_ACTIONS.grantProjectPermission, project),
        target: granteeTarget(grantee),
        changes: diff({ accessLevel: previous }, { accessLevel: grant.accessLevel }),
      });
      return grant;
    });
  }

  async revoke(
    ctx: RequestContext,
    access: ProjectDecision,
    ids: { userId?: string | null; serviceAccountId?: string | null },
  ): Promise<boolean> {
    const grantee = granteeOf(ids);
    const { project } = await access.get();
    await inTransaction(ctx, async (tx) => {
      await lockLiveProject(tx, project, { withdraws: true });
      const removed = await projectGrantRepository.delete(tx, project.id, grantee);
      if (!removed) throw new NotFoundError('Project permission');
      await recordAudit(ctx, tx, {
        ...projectEvent(AUDIT_ACTIONS.revokeProjectPermission, project),
        target: granteeTarget(grantee),
        changes: diff({ accessLevel: removed }, { accessLevel: null }),
      });
    });
    return true;
  }
}

function granteeTarget(grantee: Principal) {
  return { type: grantee.kind === PrincipalKind.USER ? 'user' : 'service_account', id: grantee.id };
}

export const projectPermissionService = new ProjectPermissionService();
