import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { User } from '../entities/user.entity';
import { InviteMemberInput, UpdateMemberRoleInput } from '../inputs/organization.inputs';
import { membershipService } from '../services/membership.service';
import { InvitationPayload } from '../types/invitation.type';
import { Membership } from '../types/membership.type';

@Resolver(() => Membership)
export class MembershipResolver {
  private readonly memberships = membershipService;

  @Authorized(Permission.OrganizationRead)
  @FieldResolver(() => User)
  user(@Ctx() ctx: RequestContext, @Root() membership: Membership): Promise<User> {
    return this.memberships.user(ctx, membership);
  }

  @Authorized(Permission.MembersManage)
  @Mutation(() => InvitationPayload, { description: 'The token is returned this once, to share as a link.' })
  inviteMember(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => InviteMemberInput) input: InviteMemberInput,
  ): Promise<InvitationPayload> {
    return this.memberships.invite(ctx, input);
  }

  @Authorized()
  @Mutation(() => Membership, { description: 'By the signed-in user the invitation was sent to.' })
  acceptInvitation(@Ctx() ctx: RequestContext, @Arg('token', () => String) token: string): Promise<Membership> {
    return this.memberships.accept(ctx, token);
  }

  @Authorized(Permission.MembersManage)
  @Mutation(() => Membership)
  updateMemberRole(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => UpdateMemberRoleInput) input: UpdateMemberRoleInput,
  ): Promise<Membership> {
    return this.memberships.updateRole(ctx, input);
  }

  @Authorized(Permission.MembersManage)
  @Mutation(() => Boolean, { description: "Also removes the user's access to the organization's projects." })
  removeMember(
    @Ctx() ctx: RequestContext,
    @Arg('organizationSlug', () => String) organizationSlug: string,
    @Arg('userId', () => ID) userId: string,
  ): Promise<boolean> {
    return this.memberships.remove(ctx, organizationSlug, userId);
  }

  @Authorized(Permission.OrganizationRead)
  @Mutation(() => Boolean, { description: 'The last owner cannot leave.' })
  leaveOrganization(@Ctx() ctx: RequestContext, @Arg('slug', () => String) slug: string): Promise<boolean> {
    return this.memberships.leave(ctx, slug);
  }
}
