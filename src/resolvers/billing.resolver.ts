import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Resolver } from 'type-graphql';
import type { OrganizationDecision } from '../auth/access';
import { Granted } from '../auth/auth-checker';
import { Organization } from '../entities/organization.entity';
import { ChangePlanInput, UpdateBillingDetailsInput } from '../inputs/billing.inputs';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { invoiceService } from '../services/billing-invoice.service';
import { paymentMethodService } from '../services/billing-payment-method.service';
import { subscriptionService } from '../services/billing-subscription.service';
import { billingService } from '../services/billing.service';
import { Billing, BillingDetailsView, InvoiceView, PaymentMethodView, SubscriptionView } from '../types/billing.types';
import { Connection, type Page } from '../types/connection.type';
import { PageArgs } from './organization.resolver';

export const InvoiceConnection = Connection(InvoiceView, 'Invoice');
export const PaymentMethodConnection = Connection(PaymentMethodView, 'PaymentMethod');

@Resolver(() => Organization)
export class OrganizationBillingResolver {
  private readonly billingService = billingService;

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => Billing, { description: 'Owners and admins see it; owners change it.' })
  billing(@Ctx() ctx: RequestContext, @Granted() access: OrganizationDecision): Promise<Billing> {
    return this.billingService.of(ctx, access);
  }
}

/**
 * The fields of an organization's billing: each one's guard decides on the organization the
 * billing belongs to (`organizationId`), each mutation's on its `organizationSlug`.
 */
@Resolver(() => Billing)
export class BillingResolver {
  private readonly billingService = billingService;
  private readonly subscriptionService = subscriptionService;
  private readonly paymentMethodService = paymentMethodService;
  private readonly invoiceService = invoiceService;

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => SubscriptionView)
  subscription(@Ctx() ctx: RequestContext, @Granted() access: OrganizationDecision): Promise<SubscriptionView> {
    return this.subscriptionService.get(ctx, access);
  }

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => PaymentMethodConnection, { description: 'The default first, then the oldest first.' })
  paymentMethods(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<PaymentMethodView>> {
    return this.paymentMethodService.list(ctx, access, page.first, page.after);
  }

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => InvoiceConnection, { description: 'Issued invoices, newest first.' })
  invoices(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<InvoiceView>> {
    return this.invoiceService.list(ctx, access, page.first, page.after);
  }

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => InvoiceView, {
    nullable: true,
    description: "The current period's draft: what the next invoice holds so far. Null when nothing is due yet.",
  })
  upcomingInvoice(@Ctx() ctx: RequestContext, @Granted() access: OrganizationDecision): Promise<InvoiceView | null> {
    return this.invoiceService.upcoming(ctx, access);
  }

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => BillingDetailsView)
  details(@Ctx() ctx: RequestContext, @Granted() access: OrganizationDecision): Promise<BillingDetailsView> {
    return this.billingService.details(ctx, access);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => BillingDetailsView, { description: 'Absent fields stay as they are; null clears one.' })
  updateBillingDetails(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Arg('input', () => UpdateBillingDetailsInput) input: UpdateBillingDetailsInput,
  ): Promise<BillingDetailsView> {
    return this.billingService.updateDetails(ctx, access, input);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => SubscriptionView, {
    description: 'At once: the difference in price for the rest of the period goes on the upcoming invoice.',
  })
  changePlan(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Arg('input', () => ChangePlanInput) input: ChangePlanInput,
  ): Promise<SubscriptionView> {
    return this.subscriptionService.changePlan(ctx, access, input);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => SubscriptionView, { description: 'At the end of the period the organization moves to free.' })
  cancelSubscription(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Arg('organizationSlug', () => String) _organizationSlug: string,
  ): Promise<SubscriptionView> {
    return this.subscriptionService.cancel(ctx, access);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => SubscriptionView, { description: 'Withdraws a scheduled cancellation.' })
  resumeSubscription(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Arg('organizationSlug', () => String) _organizationSlug: string,
  ): Promise<SubscriptionView> {
    return this.subscriptionService.resume(ctx, access);
  }
}
