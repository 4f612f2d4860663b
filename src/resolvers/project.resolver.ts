import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { OrganizationDecision, ProjectDecision } from '../auth/access';
import { CheckedInWrite, Granted, SeesDeleted } from '../auth/auth-checker';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { Organization } from '../entities/organization.entity';
import { AccessLevel, ProjectGrant } from '../entities/project-grant.entity';
import { Project } from '../entities/project.entity';
import { CreateProjectInput, UpdateProjectInput } from '../inputs/project.inputs';
import { credentialService } from '../services/credential.service';
import { projectPermissionService } from '../services/project-permission.service';
import { projectService } from '../services/project.service';
import { ProjectCredentials } from '../types/project-credentials.type';
import { Connection, type Page } from '../types/connection.type';
import { PageArgs } from './organization.resolver';

export const ProjectPermissionConnection = Connection(ProjectGrant, 'ProjectPermission');

@Resolver(() => Project)
export class ProjectResolver {
  private readonly projectService = projectService;
  private readonly credentialService = credentialService;
  private readonly projectPermissionService = projectPermissionService;

  @Authorized(Permission.ProjectRead)
  @Query(() => Project, { description: 'NOT_FOUND when absent or not visible to the caller.' })
  project(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) _ref: string,
    @Granted() access: ProjectDecision,
  ): Promise<Project> {
    return this.projectService.get(ctx, access);
  }

  @Authorized(Permission.ProjectCreate)
  @Mutation(() => Project, { description: 'Starts COMING_UP; the creator gets admin access.' })
  createProject(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateProjectInput) input: CreateProjectInput,
    @Granted() access: OrganizationDecision,
  ): Promise<Project> {
    return this.projectService.create(ctx, access, input);
  }

  @Authorized(Permission.ProjectUpdate)
  @CheckedInWrite()
  @Mutation(() => Project)
  updateProject(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) _ref: string,
    @Arg('input', () => UpdateProjectInput) input: UpdateProjectInput,
    @Granted() access: ProjectDecision,
  ): Promise<Project> {
    return this.projectService.update(ctx, access, input);
  }

  @Authorized(Permission.ProjectUpdate)
  @Mutation(() => Project, { description: 'ACTIVE_HEALTHY (or PAUSE_FAILED) -> PAUSING -> PAUSED or PAUSE_FAILED.' })
  pauseProject(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) _ref: string,
    @Granted() access: ProjectDecision,
  ): Promise<Project> {
    return this.projectService.pause(ctx, access);
  }

  @Authorized(Permission.ProjectUpdate)
  @Mutation(() => Project, {
    description:
      'PAUSED (or RESTORE_FAILED) -> RESTORING -> ACTIVE_HEALTHY or RESTORE_FAILED; INIT_FAILED -> COMING_UP, a retried start.',
  })
  restoreProject(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) _ref: string,
    @Granted() access: ProjectDecision,
  ): Promise<Project> {
    return this.projectService.restore(ctx, access);
  }

  @Authorized(Permission.ProjectDelete)
  @SeesDeleted()
  @Mutation(() => Project, { description: 'Brings back a deleted project during its grace period, as it was.' })
  undeleteProject(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) _ref: string,
    @Granted() access: ProjectDecision,
  ): Promise<Project> {
    return this.projectService.undelete(ctx, access);
  }

  @Authorized(Permission.ProjectDelete)
  @Mutation(() => Boolean, {
    description: 'Deletes the project: GOING_DOWN and hidden at once, removed after DELETION_GRACE_DAYS.',
  })
  deleteProject(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) _ref: string,
    @Granted() access: ProjectDecision,
  ): Promise<boolean> {
    return this.projectService.delete(ctx, access);
  }

  @Authorized(Permission.ProjectSecretsManage)
  @Mutation(() => ProjectCredentials, {
    description: 'A new JWT secret; both keys re-signed, the old ones stop verifying.',
  })
  rotateProjectJwtSecret(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) _ref: string,
    @Granted() access: ProjectDecision,
  ): Promise<ProjectCredentials> {
    return this.credentialService.rotate(ctx, access);
  }

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => Organization)
  organization(@Ctx() ctx: RequestContext, @Granted() access: OrganizationDecision): Promise<Organization> {
    return this.projectService.organization(ctx, access);
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => AccessLevel)
  myAccess(@Ctx() ctx: RequestContext, @Granted() access: ProjectDecision): Promise<AccessLevel> {
    return this.projectService.myAccess(ctx, access);
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => [String], { description: 'The permission keys the caller holds on this project.' })
  myPermissions(@Ctx() ctx: RequestContext, @Granted() access: ProjectDecision): Promise<string[]> {
    return this.projectService.myPermissions(ctx, access);
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => ProjectCredentials)
  credentials(@Root() project: Project): ProjectCredentials {
    return this.credentialService.credentialsOf(project.id);
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => ProjectPermissionConnection)
  permissions(
    @Ctx() ctx: RequestContext,
    @Root() project: Project,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<ProjectGrant>> {
    return this.projectPermissionService.list(ctx, project, page.first, page.after);
  }
}
