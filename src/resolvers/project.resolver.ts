import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
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

@Resolver(() => Project)
export class ProjectResolver {
  private readonly projects = projectService;
  private readonly credentialService = credentialService;
  private readonly grants = projectPermissionService;

  @Authorized(Permission.ProjectRead)
  @Query(() => Project, { description: 'NOT_FOUND when absent or not visible to the caller.' })
  project(@Ctx() ctx: RequestContext, @Arg('ref', () => String) ref: string): Promise<Project> {
    return this.projects.get(ctx, ref);
  }

  @Authorized(Permission.ProjectCreate)
  @Mutation(() => Project, { description: 'Starts COMING_UP; the creator gets admin access.' })
  createProject(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateProjectInput) input: CreateProjectInput,
  ): Promise<Project> {
    return this.projects.create(ctx, input);
  }

  @Authorized(Permission.ProjectUpdate)
  @Mutation(() => Project)
  updateProject(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) ref: string,
    @Arg('input', () => UpdateProjectInput) input: UpdateProjectInput,
  ): Promise<Project> {
    return this.projects.update(ctx, ref, input);
  }

  @Authorized(Permission.ProjectUpdate)
  @Mutation(() => Project, { description: 'ACTIVE_HEALTHY -> PAUSED.' })
  pauseProject(@Ctx() ctx: RequestContext, @Arg('ref', () => String) ref: string): Promise<Project> {
    return this.projects.pause(ctx, ref);
  }

  @Authorized(Permission.ProjectUpdate)
  @Mutation(() => Project, { description: 'PAUSED -> RESTORING -> ACTIVE_HEALTHY.' })
  restoreProject(@Ctx() ctx: RequestContext, @Arg('ref', () => String) ref: string): Promise<Project> {
    return this.projects.restore(ctx, ref);
  }

  @Authorized(Permission.ProjectDelete)
  @Mutation(() => Boolean)
  deleteProject(@Ctx() ctx: RequestContext, @Arg('ref', () => String) ref: string): Promise<boolean> {
    return this.projects.delete(ctx, ref);
  }

  @Authorized(Permission.ProjectSecretsManage)
  @Mutation(() => ProjectCredentials, {
    description: 'A new JWT secret; both keys re-signed, the old ones stop verifying.',
  })
  rotateProjectJwtSecret(
    @Ctx() ctx: RequestContext,
    @Arg('ref', () => String) ref: string,
  ): Promise<ProjectCredentials> {
    return this.credentialService.rotate(ctx, ref);
  }

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => Organization)
  organization(@Ctx() ctx: RequestContext, @Root() project: Project): Promise<Organization> {
    return this.projects.organization(ctx, project);
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => AccessLevel)
  myAccess(@Ctx() ctx: RequestContext, @Root() project: Project): Promise<AccessLevel> {
    return this.projects.myAccess(ctx, project);
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => [String], { description: 'The permission keys the caller holds on this project.' })
  myPermissions(@Ctx() ctx: RequestContext, @Root() project: Project): Promise<string[]> {
    return this.projects.myPermissions(ctx, project);
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => ProjectCredentials)
  credentials(@Root() project: Project): ProjectCredentials {
    return this.credentialService.credentialsOf(project.id);
  }

  @Authorized(Permission.ProjectRead)
  @FieldResolver(() => [ProjectGrant])
  permissions(@Ctx() ctx: RequestContext, @Root() project: Project): Promise<ProjectGrant[]> {
    return this.grants.list(ctx, project);
  }
}
