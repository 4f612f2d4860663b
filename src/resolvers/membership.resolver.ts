import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { OrganizationDecision } from '../auth/access';
import { Granted } from '../auth/auth-checker';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { User } from '../entities/user.entity';
import { InviteMemberInput, UpdateMemberRoleInput } from '../inputs/organization.inputs';
import { membershipService } from '../services/membership.service';
import { InvitationPayload } from '../types/invitation.type';
import { UserRole } from '../entities/user-role.entity';

@Resolver(() => UserRole)
export class MembershipResolver {
  private readonly membershipService = membershipService;

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => User)
  user(@Ctx() ctx: RequestContext, @Root() membership: UserRole): Promise<User> {
    return this.membershipService.user(ctx, membership);
  }

  @Authorized(Permission.MembersManage)
  @Mutation(() => InvitationPayload, { description: 'The token is returned this once, to share as a link.' })
  inviteMember(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => InviteMemberInput) input: InviteMemberInput,
    @Granted() access: OrganizationDecision,
  ): Promise<InvitationPayload> {
    return this.membershipService.invite(ctx, access, input);
  }

  @Authorized()
  @Mutation(() => UserRole, { description: 'By the signed-in user the invitation was sent to.' })
  acceptInvitation(@Ctx() ctx: RequestContext, @Arg('token', () => String) token: string): Promise<UserRole> {
    return this.membershipService.accept(ctx, token);
  }

  @Authorized(Permission.MembersManage)
  @Mutation(() => UserRole)
  updateMemberRole(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => UpdateMemberRoleInput) input: UpdateMemberRoleInput,
    @Granted() access: OrganizationDecision,
  ): Promise<UserRole> {
    return this.membershipService.updateRole(ctx, access, input);
  }

  @Authorized(Permission.MembersManage)
  @Mutation(() => Boolean, { description: "Also removes the user's access to the organization's projects." })
  removeMember(
    @Ctx() ctx: RequestContext,
    @Arg('organizationSlug', () => String) _organizationSlug: string,
    @Arg('userId', () => ID) userId: string,
    @Granted() access: OrganizationDecision,
  ): Promise<boolean> {
    return this.membershipService.remove(ctx, access, userId);
  }

  @Authorized(Permission.OrganizationRead)
  @Mutation(() => Boolean, { description: 'The last owner cannot leave.' })
  leaveOrganization(
    @Ctx() ctx: RequestContext,
    @Arg('slug', () => String) _slug: string,
    @Granted() access: OrganizationDecision,
  ): Promise<boolean> {
    return this.membershipService.leave(ctx, access);
  }
}
