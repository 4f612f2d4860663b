import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { PlatformDecision } from '../auth/access';
import { Granted } from '../auth/auth-checker';
import { Organization } from '../entities/organization.entity';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { platformAdminService } from '../services/platform-admin.service';
import { InvoiceView } from '../types/billing.types';
import { PlatformInvitationPayload, PlatformOrganization, SetOrganizationPlanInput } from '../types/platform.types';

/** What only platform admins change. Every mutation here calls the audit hook in its transaction. */
@Resolver()
export class PlatformAdminResolver {
  private readonly platformAdminService = platformAdminService;

  @Authorized(Permission.PlatformOrganizationsManage)
  @Mutation(() => Organization, {
    description:
      'Its members can still read it; every change but paying answers ORGANIZATION_SUSPENDED with this reason. Running projects are paused.',
  })
  suspendOrganization(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Arg('slug', () => String) slug: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<Organization> {
    return this.platformAdminService.suspend(ctx, access, slug, reason);
  }

  @Authorized(Permission.PlatformOrganizationsManage)
  @Mutation(() => Organization, { description: 'Paused projects stay paused: their owners restore them.' })
  unsuspendOrganization(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Arg('slug', () => String) slug: string,
  ): Promise<Organization> {
    return this.platformAdminService.unsuspend(ctx, access, slug);
  }

  @Authorized(Permission.PlatformOrganizationsManage)
  @Mutation(() => PlatformOrganization, {
    description: 'A complimentary plan, without a payment method, until `until`; then back to the plan before it.',
  })
  setOrganizationPlan(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Arg('input', () => SetOrganizationPlanInput) input: SetOrganizationPlanInput,
  ): Promise<PlatformOrganization> {
    return this.platformAdminService.setPlan(ctx, access, input);
  }

  @Authorized(Permission.PlatformUsersManage)
  @Mutation(() => PlatformInvitationPayload, {
    description: 'A sign-up invitation that joins no organization (for SIGNUP_MODE invite or closed).',
  })
  invitePlatformUser(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Arg('email', () => String) email: string,
  ): Promise<PlatformInvitationPayload> {
    return this.platformAdminService.invite(ctx, access, email);
  }

  @Authorized(Permission.PlatformUsersManage)
  @Mutation(() => Boolean, { description: 'CONFLICT while the user is the last owner of an organization.' })
  deleteUser(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Arg('id', () => ID) id: string,
  ): Promise<boolean> {
    return this.platformAdminService.deleteUser(ctx, access, id);
  }

  @Authorized(Permission.PlatformBillingManage)
  @Mutation(() => InvoiceView, {
    description:
      'Records a payment made outside the provider; open or uncollectible invoices only. Lifts a past_due suspension once nothing is owed.',
  })
  markInvoicePaid(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Arg('organizationSlug', () => String) organizationSlug: string,
    @Arg('invoiceId', () => ID) invoiceId: string,
  ): Promise<InvoiceView> {
    return this.platformAdminService.markInvoicePaid(ctx, access, organizationSlug, invoiceId);
  }

  @Authorized(Permission.PlatformBillingManage)
  @Mutation(() => InvoiceView, { description: 'Open or uncollectible invoices only; a void invoice keeps its number.' })
  voidInvoice(
    @Ctx() ctx: RequestContext,
    @Granted() access: PlatformDecision,
    @Arg('organizationSlug', () => String) organizationSlug: string,
    @Arg('invoiceId', () => ID) invoiceId: string,
  ): Promise<InvoiceView> {
    return this.platformAdminService.voidInvoice(ctx, access, organizationSlug, invoiceId);
  }
}
