import {
  Arg,
  Args,
  ArgsType,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  Info,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { OrganizationDecision } from '../auth/access';
import { Granted, SeesDeleted } from '../auth/auth-checker';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { Organization } from '../entities/organization.entity';
import { Project } from '../entities/project.entity';
import { OrganizationRole } from '../entities/user-role.entity';
import { CreateOrganizationInput, UpdateOrganizationInput } from '../inputs/organization.inputs';
import { membershipService } from '../services/membership.service';
import { organizationService } from '../services/organization.service';
import { projectService } from '../services/project.service';
import { Connection, type Page } from '../types/connection.type';
import { UserRole } from '../entities/user-role.entity';
import { organizationDetails } from '../graphql/look-ahead';

export const OrganizationConnection = Connection(Organization, 'Organization');
export const ProjectConnection = Connection(Project, 'Project');
export const MembershipConnection = Connection(UserRole, 'Membership');

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Page size; capped by the server (MAX_PAGE_SIZE).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  after?: string | null;
}

@Resolver(() => Organization)
export class OrganizationResolver {
  private readonly organizationService = organizationService;
  private readonly membershipService = membershipService;
  private readonly projectService = projectService;

  @Authorized()
  @Query(() => OrganizationConnection, { description: "The caller's organizations." })
  organizations(
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs) page: PageArgs,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Page<Organization>> {
    return this.organizationService.listMine(ctx, page.first, page.after, organizationDetails(ctx, info, ['nodes']));
  }

  @Authorized(Permission.OrganizationRead)
  @Query(() => Organization, { description: 'NOT_FOUND when absent or not visible to the caller.' })
  organization(
    @Ctx() ctx: RequestContext,
    @Arg('slug', () => String) _slug: string,
    @Granted() access: OrganizationDecision,
  ): Promise<Organization> {
    return this.organizationService.get(ctx, access);
  }

  @Authorized()
  @Mutation(() => Organization, { description: 'The caller becomes its owner.' })
  createOrganization(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateOrganizationInput) input: CreateOrganizationInput,
  ): Promise<Organization> {
    return this.organizationService.create(ctx, input);
  }

  @Authorized(Permission.OrganizationUpdate)
  @Mutation(() => Organization)
  updateOrganization(
    @Ctx() ctx: RequestContext,
    @Arg('slug', () => String) _slug: string,
    @Arg('input', () => UpdateOrganizationInput) input: UpdateOrganizationInput,
    @Granted() access: OrganizationDecision,
  ): Promise<Organization> {
    return this.organizationService.update(ctx, access, input);
  }

  @Authorized()
  @Query(() => OrganizationConnection, {
    description: "The caller's deleted organizations (as owner), which can be undeleted until they are purged.",
  })
  deletedOrganizations(@Ctx() ctx: RequestContext, @Args(() => PageArgs) page: PageArgs): Promise<Page<Organization>> {
    return this.organizationService.deletedMine(ctx, page.first, page.after);
  }

  @Authorized(Permission.OrganizationDelete)
  @SeesDeleted()
  @Mutation(() => Organization, { description: 'Brings back a deleted organization during its grace period.' })
  undeleteOrganization(
    @Ctx() ctx: RequestContext,
    @Arg('slug', () => String) _slug: string,
    @Granted() access: OrganizationDecision,
  ): Promise<Organization> {
    return this.organizationService.undelete(ctx, access);
  }

  @Authorized(Permission.OrganizationDelete)
  @FieldResolver(() => ProjectConnection, {
    description: 'Deleted projects, for owners, which can be undeleted until they are purged.',
  })
  deletedProjects(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<Project>> {
    return this.projectService.deletedOf(ctx, access, page.first, page.after);
  }

  @Authorized(Permission.OrganizationDelete)
  @Mutation(() => Boolean, {
    description:
      'Deletes the organization: hidden at once, purged with its projects, members and billing (invoices stay) after DELETION_GRACE_DAYS.',
  })
  deleteOrganization(
    @Ctx() ctx: RequestContext,
    @Arg('slug', () => String) _slug: string,
    @Granted() access: OrganizationDecision,
  ): Promise<boolean> {
    return this.organizationService.delete(ctx, access);
  }

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => OrganizationRole)
  myRole(@Ctx() ctx: RequestContext, @Granted() access: OrganizationDecision): Promise<OrganizationRole> {
    return this.organizationService.myRole(ctx, access);
  }

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => [String], { description: 'The permission keys the caller holds here.' })
  myPermissions(@Ctx() ctx: RequestContext, @Granted() access: OrganizationDecision): Promise<string[]> {
    return this.organizationService.myPermissions(ctx, access);
  }

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => MembershipConnection)
  members(
    @Ctx() ctx: RequestContext,
    @Root() organization: Organization,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<UserRole>> {
    return this.membershipService.members(ctx, organization, page.first, page.after);
  }

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => ProjectConnection, { description: 'The projects visible to the caller.' })
  projects(
    @Ctx() ctx: RequestContext,
    @Root() organization: Organization,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<Project>> {
    return this.projectService.listForOrganization(ctx, organization, page.first, page.after);
  }
}
