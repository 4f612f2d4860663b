import type { ProjectDecision } from '../auth/access';
import type { ProjectGrant } from '../entities/project-grant.entity';
import type { Project } from '../entities/project.entity';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../errors';
import { pageRequest, toPage } from '../graphql/pagination';
import { assertUuid } from '../inputs/ids';
import type { GrantProjectPermissionInput } from '../inputs/project.inputs';
import { accessAtLeast, MAX_GRANTABLE_ACCESS } from '../permissions';
import { membershipRepository } from '../repositories/membership.repository';
import { projectGrantRepository } from '../repositories/project-grant.repository';
import type { RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import type { Page } from '../types/connection.type';
import { lockLiveProject } from './organization-lock';

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
   * Grants (or changes) a member's access. Only members of the project's organization can be
   * granted, a viewer at most read, and nobody grants more than they hold themselves.
   */
  async grant(ctx: RequestContext, access: ProjectDecision, input: GrantProjectPermissionInput): Promise<ProjectGrant> {
    const { project, level } = await access.get();
    if (!accessAtLeast(level, input.accessLevel))
      throw new ForbiddenError('You cannot grant more access than you hold');
    return inTransaction(ctx, async (tx) => {
      // Serialized with membership changes, so that a grant cannot outlive a racing removal.
      await lockLiveProject(tx, project);
      const member = await membershipRepository.find(tx, project.organizationId, input.userId);
      if (!member) throw BadUserInputError.field('userId', "userId must be a member of the project's organization");
      if (!accessAtLeast(MAX_GRANTABLE_ACCESS[member.role], input.accessLevel)) {
        throw BadUserInputError.field(
          'accessLevel',
          `a ${member.role} can be granted at most ${MAX_GRANTABLE_ACCESS[member.role]} access`,
        );
      }
      return projectGrantRepository.upsert(tx, {
        projectId: project.id,
        userId: input.userId,
        accessLevel: input.accessLevel,
      });
    });
  }

  async revoke(ctx: RequestContext, access: ProjectDecision, userId: string): Promise<boolean> {
    assertUuid('userId', userId);
    const { project } = await access.get();
    await inTransaction(ctx, async (tx) => {
      await lockLiveProject(tx, project);
      if (!(await projectGrantRepository.delete(tx, project.id, userId))) throw new NotFoundError('Project permission');
    });
    return true;
  }
}

export const projectPermissionService = new ProjectPermissionService();
