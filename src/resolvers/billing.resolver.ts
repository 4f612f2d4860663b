import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { Organization } from '../entities/organization.entity';
import { ChangePlanInput, UpdateBillingDetailsInput } from '../inputs/billing.inputs';
import { invoiceService } from '../services/billing-invoice.service';
import { paymentMethodService } from '../services/billing-payment-method.service';
import { subscriptionService } from '../services/billing-subscription.service';
import { billingService } from '../services/billing.service';
import { Billing, BillingDetailsView, InvoiceView, PaymentMethodView, SubscriptionView } from '../types/billing.types';
import { Connection, type Page } from '../types/connection.type';
import { PAGE_ARGS, PageArgs } from './organization.resolver';

export const InvoiceConnection = Connection(InvoiceView, 'Invoice');

@Resolver(() => Organization)
export class OrganizationBillingResolver {
  private readonly billingService = billingService;

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => Billing, { description: 'Owners and admins see it; owners change it.' })
  billing(@Root() organization: Organization): Billing {
    return this.billingService.of(organization);
  }
}

@Resolver(() => Billing)
export class BillingResolver {
  private readonly billingService = billingService;
  private readonly subscriptionService = subscriptionService;
  private readonly paymentMethodService = paymentMethodService;
  private readonly invoiceService = invoiceService;

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => SubscriptionView)
  subscription(@Ctx() ctx: RequestContext, @Root() billing: Billing): Promise<SubscriptionView> {
    return this.subscriptionService.get(ctx, billing);
  }

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => [PaymentMethodView], { description: 'The default first.' })
  paymentMethods(@Ctx() ctx: RequestContext, @Root() billing: Billing): Promise<PaymentMethodView[]> {
    return this.paymentMethodService.list(ctx, billing);
  }

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => InvoiceConnection, { description: 'Issued invoices, newest first.' })
  invoices(
    @Ctx() ctx: RequestContext,
    @Root() billing: Billing,
    @Args(() => PageArgs, PAGE_ARGS) page: PageArgs,
  ): Promise<Page<InvoiceView>> {
    return this.invoiceService.list(ctx, billing, page.first, page.after);
  }

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => InvoiceView, {
    nullable: true,
    description: "The current period's draft: what the next invoice holds so far. Null when nothing is due yet.",
  })
  upcomingInvoice(@Ctx() ctx: RequestContext, @Root() billing: Billing): Promise<InvoiceView | null> {
    return this.invoiceService.upcoming(ctx, billing);
  }

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => BillingDetailsView)
  details(@Ctx() ctx: RequestContext, @Root() billing: Billing): Promise<BillingDetailsView> {
    return this.billingService.details(ctx, billing);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => BillingDetailsView, { description: 'Absent fields stay as they are; null clears one.' })
  updateBillingDetails(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => UpdateBillingDetailsInput) input: UpdateBillingDetailsInput,
  ): Promise<BillingDetailsView> {
    return this.billingService.updateDetails(ctx, input);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => SubscriptionView, {
    description: 'At once: the difference in price for the rest of the period goes on the upcoming invoice.',
  })
  changePlan(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => ChangePlanInput) input: ChangePlanInput,
  ): Promise<SubscriptionView> {
    return this.subscriptionService.changePlan(ctx, input);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => SubscriptionView, { description: 'At the end of the period the organization moves to free.' })
  cancelSubscription(
    @Ctx() ctx: RequestContext,
    @Arg('organizationSlug', () => String) organizationSlug: string,
  ): Promise<SubscriptionView> {
    return this.subscriptionService.cancel(ctx, organizationSlug);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => SubscriptionView, { description: 'Withdraws a scheduled cancellation.' })
  resumeSubscription(
    @Ctx() ctx: RequestContext,
    @Arg('organizationSlug', () => String) organizationSlug: string,
  ): Promise<SubscriptionView> {
    return this.subscriptionService.resume(ctx, organizationSlug);
  }
}
