import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { ProjectDecision } from '../auth/access';
import { Granted } from '../auth/auth-checker';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { User } from '../entities/user.entity';
import { GrantProjectPermissionInput } from '../inputs/project.inputs';
import { membershipService } from '../services/membership.service';
import { projectPermissionService } from '../services/project-permission.service';
import { ProjectGrant } from '../entities/project-grant.entity';

@Resolver(() => ProjectGrant)
export class ProjectPermissionResolver {
  private readonly projectPermissionService = projectPermissionService;
  private readonly membershipService = membershipService;

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => User)
  user(@Ctx() ctx: RequestContext, @Root() grant: ProjectGrant): Promise<User> {
    return this.membershipService.user(ctx, grant);
  }

  @Authorized(Permission.ProjectPermissionsManage)
  @Mutation(() => ProjectGrant, { description: "Grants or changes a member's access to the project." })
  grantProjectPermission(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => GrantProjectPermissionInput) input: GrantProjectPermissionInput,
    @Granted() access: ProjectDecision,
  ): Promise<ProjectGrant> {
    return this.projectPermissionService.grant(ctx, access, input);
  }

  @Authorized(Permission.ProjectPermissionsManage)
  @Mutation(() => Boolean)
  revokeProjectPermission(
    @Ctx() ctx: RequestContext,
    @Arg('projectRef', () => String) _projectRef: string,
    @Arg('userId', () => ID) userId: string,
    @Granted() access: ProjectDecision,
  ): Promise<boolean> {
    return this.projectPermissionService.revoke(ctx, access, userId);
  }
}
