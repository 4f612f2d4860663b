import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { OrganizationDecision } from '../auth/access';
import { Granted, LocatedBy } from '../auth/auth-checker';
import { Organization } from '../entities/organization.entity';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { invitationService } from '../services/invitation.service';
import type { Page } from '../types/connection.type';
import { InvitationConnection, InvitationView } from '../types/invitation.type';
import { PageArgs } from './organization.resolver';

/** Pending invitations of an organization: listed, withdrawn and sent again by those who may invite. */
@Resolver(() => Organization)
export class InvitationResolver {
  private readonly invitationService = invitationService;

  @Authorized(Permission.MembersManage)
  @FieldResolver(() => InvitationConnection, { description: 'Pending and unexpired, oldest first.' })
  invitations(
    @Ctx() ctx: RequestContext,
    @Root() organization: Organization,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<InvitationView>> {
    return this.invitationService.list(ctx, organization, page.first, page.after);
  }

  @Authorized(Permission.MembersManage)
  @LocatedBy('invitation')
  @Mutation(() => Boolean, { description: 'Withdraws a pending invitation: its link stops working.' })
  revokeInvitation(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Granted() access: OrganizationDecision,
  ): Promise<boolean> {
    return this.invitationService.revoke(ctx, access, id);
  }

  @Authorized(Permission.MembersManage)
  @LocatedBy('invitation')
  @Mutation(() => InvitationView, {
    description: 'E-mails a fresh link, valid for a week; the old one stops working. The sender now vouches for it.',
  })
  resendInvitation(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Granted() access: OrganizationDecision,
  ): Promise<InvitationView> {
    return this.invitationService.resend(ctx, access, id);
  }
}
