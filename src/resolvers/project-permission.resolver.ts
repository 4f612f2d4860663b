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
import { ServiceAccount } from '../entities/service-account.entity';

@Resolver(() => ProjectGrant)
export class ProjectPermissionResolver {
  private readonly projectPermissionService = projectPermissionService;
  private readonly membershipService = membershipService;

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => User, { nullable: true, description: 'The user granted; null for a service account.' })
  async user(@Ctx() ctx: RequestContext, @Root() grant: ProjectGrant): Promise<User | null> {
    return grant.userId ? this.membershipService.user(ctx, { userId: grant.userId }) : null;
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => ServiceAccount, { nullable: true, description: 'The service account granted; null for a user.' })
  async serviceAccount(@Ctx() ctx: RequestContext, @Root() grant: ProjectGrant): Promise<ServiceAccount | null> {
    return grant.serviceAccountId ? ctx.loaders.serviceAccountById.load(grant.serviceAccountId) : null;
  }

  @Authorized(Permission.ProjectPermissionsManage)
  @Mutation(() => ProjectGrant, {
    description: "Grants or changes a member's or a service account's access to the project.",
  })
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
    @Arg('userId', () => ID, { nullable: true, description: 'The member: this or serviceAccountId.' })
    userId: string | null,
    @Arg('serviceAccountId', () => ID, { nullable: true, description: 'The service account: this or userId.' })
    serviceAccountId: string | null,
    @Granted() access: ProjectDecision,
  ): Promise<boolean> {
    return this.projectPermissionService.revoke(ctx, access, { userId, serviceAccountId });
  }
}
