import { projectAccess } from '../auth/access';
import type { RequestContext } from '../request/context';
import { accessAtLeast, MAX_GRANTABLE_ACCESS, Permission } from '../permissions';
import { inTransaction } from '../request/transaction';
import { ProjectGrant } from '../entities/project-grant.entity';
import type { Project } from '../entities/project.entity';
import { UserRole } from '../entities/user-role.entity';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../errors';
import { assertUuid } from '../inputs/ids';
import type { GrantProjectPermissionInput } from '../inputs/project.inputs';
import { lockOrganization } from '../repositories/organization.repository';

function toGrant(row: Pick<ProjectGrant, 'projectId' | 'userId' | 'accessLevel'>): ProjectGrant {
  return Object.assign(Object.create(ProjectGrant.prototype) as ProjectGrant, row);
}

export class ProjectPermissionService {
  async list(ctx: RequestContext, project: Project): Promise<ProjectGrant[]> {
    return (await ctx.loaders.permissionsByProject.load(project.id)).map(toGrant);
  }

  /**
   * Grants (or changes) a member's access. Only members of the project's organization can be
   * granted, a viewer at most read, and nobody grants more than they hold themselves.
   */
  async grant(ctx: RequestContext, input: GrantProjectPermissionInput): Promise<ProjectGrant> {
    const { project, level } = await projectAccess(ctx, { ref: input.projectRef }, Permission.ProjectPermissionsManage);
    if (!accessAtLeast(level, input.accessLevel))
      throw new ForbiddenError('You cannot grant more access than you hold');
    return inTransaction(ctx, async (tx) => {
      // Serialized with membership changes, so that a grant cannot outlive a racing removal.
      await lockOrganization(tx, project.organizationId);
      const member = await tx.findOneBy(UserRole, { organizationId: project.organizationId, userId: input.userId });
      if (!member) {
        throw BadUserInputError.field('userId', "userId must be a member of the project's organization");
      }
      if (!accessAtLeast(MAX_GRANTABLE_ACCESS[member.role], input.accessLevel)) {
        throw BadUserInputError.field(
          'accessLevel',
          `a ${member.role} can be granted at most ${MAX_GRANTABLE_ACCESS[member.role]} access`,
        );
      }
      await tx
        .createQueryBuilder()
        .insert()
        .into(ProjectGrant)
        .values({ projectId: project.id, userId: input.userId, accessLevel: input.accessLevel })
        .orUpdate(['access_level', 'updated_at'], ['user_id', 'project_id'])
        .execute();
      return toGrant({ projectId: project.id, userId: input.userId, accessLevel: input.accessLevel });
    });
  }

  async revoke(ctx: RequestContext, projectRef: string, userId: string): Promise<boolean> {
    assertUuid('userId', userId);
    const { project } = await projectAccess(ctx, { ref: projectRef }, Permission.ProjectPermissionsManage);
    await inTransaction(ctx, async (tx) => {
      const result = await tx.delete(ProjectGrant, { projectId: project.id, userId });
      if (!result.affected) throw new NotFoundError('Project permission');
    });
    return true;
  }
}

export const projectPermissionService = new ProjectPermissionService();
