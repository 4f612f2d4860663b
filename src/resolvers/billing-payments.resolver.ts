import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { OrganizationDecision } from '../auth/access';
import { Granted } from '../auth/auth-checker';
import { AddPaymentMethodInput } from '../inputs/billing.inputs';
import { Permission } from '../permissions';
import type { RequestContext } from '../request/context';
import { invoiceService } from '../services/billing-invoice.service';
import { MAX_PAYMENT_METHODS, paymentMethodService } from '../services/billing-payment-method.service';
import { InvoiceLineView, InvoiceView, PaymentMethodView } from '../types/billing.types';
import { Connection, type Page } from '../types/connection.type';
import { PageArgs } from './organization.resolver';

export const InvoiceLineConnection = Connection(InvoiceLineView, 'InvoiceLine');

/**
 * An organization's payment methods and invoices. The mutations' guards decide on their
 * `organizationSlug`; the lines' guard on the invoice's organization.
 */
@Resolver(() => InvoiceView)
export class BillingPaymentsResolver {
  private readonly paymentMethodService = paymentMethodService;
  private readonly invoiceService = invoiceService;

  @Authorized(Permission.BillingRead)
  @FieldResolver(() => InvoiceLineConnection, { description: 'Oldest first.' })
  lines(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Root() invoice: InvoiceView,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Page<InvoiceLineView>> {
    return this.invoiceService.lines(ctx, access, invoice, page.first, page.after);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => PaymentMethodView, {
    description: `From a payment provider token; never a card number. At most ${MAX_PAYMENT_METHODS} per organization.`,
  })
  addPaymentMethod(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Arg('input', () => AddPaymentMethodInput) input: AddPaymentMethodInput,
  ): Promise<PaymentMethodView> {
    return this.paymentMethodService.add(ctx, access, input);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => PaymentMethodView)
  setDefaultPaymentMethod(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Arg('organizationSlug', () => String) _organizationSlug: string,
    @Arg('id', () => ID) id: string,
  ): Promise<PaymentMethodView> {
    return this.paymentMethodService.setDefault(ctx, access, id);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => Boolean, { description: 'Not the default one while a paid plan is active.' })
  removePaymentMethod(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Arg('organizationSlug', () => String) _organizationSlug: string,
    @Arg('id', () => ID) id: string,
  ): Promise<boolean> {
    return this.paymentMethodService.remove(ctx, access, id);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => InvoiceView, {
    description:
      'Charges an open invoice to the default payment method now: paid, or PAYMENT_DECLINED with the invoice left open. Allowed while the organization is suspended; paying the last open invoice lifts a past_due suspension.',
  })
  payInvoice(
    @Ctx() ctx: RequestContext,
    @Granted() access: OrganizationDecision,
    @Arg('organizationSlug', () => String) _organizationSlug: string,
    @Arg('invoiceId', () => ID) invoiceId: string,
  ): Promise<InvoiceView> {
    return this.invoiceService.pay(ctx, access, invoiceId);
  }
}
