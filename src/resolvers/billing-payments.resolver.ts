import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { AddPaymentMethodInput } from '../inputs/billing.inputs';
import { invoiceService } from '../services/billing-invoice.service';
import { paymentMethodService } from '../services/billing-payment-method.service';
import { InvoiceView, PaymentMethodView } from '../types/billing.types';

/** An organization's payment methods and issued invoices. */
@Resolver()
export class BillingPaymentsResolver {
  private readonly paymentMethodService = paymentMethodService;
  private readonly invoiceService = invoiceService;

  @Authorized(Permission.BillingManage)
  @Mutation(() => PaymentMethodView, { description: 'From a payment provider token; never a card number.' })
  addPaymentMethod(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => AddPaymentMethodInput) input: AddPaymentMethodInput,
  ): Promise<PaymentMethodView> {
    return this.paymentMethodService.add(ctx, input);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => PaymentMethodView)
  setDefaultPaymentMethod(
    @Ctx() ctx: RequestContext,
    @Arg('organizationSlug', () => String) organizationSlug: string,
    @Arg('id', () => ID) id: string,
  ): Promise<PaymentMethodView> {
    return this.paymentMethodService.setDefault(ctx, organizationSlug, id);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => Boolean, { description: 'Not the default one while a paid plan is active.' })
  removePaymentMethod(
    @Ctx() ctx: RequestContext,
    @Arg('organizationSlug', () => String) organizationSlug: string,
    @Arg('id', () => ID) id: string,
  ): Promise<boolean> {
    return this.paymentMethodService.remove(ctx, organizationSlug, id);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => InvoiceView, { description: 'Records a payment made outside the provider; open invoices only.' })
  markInvoicePaid(
    @Ctx() ctx: RequestContext,
    @Arg('organizationSlug', () => String) organizationSlug: string,
    @Arg('invoiceId', () => ID) invoiceId: string,
  ): Promise<InvoiceView> {
    return this.invoiceService.markPaid(ctx, organizationSlug, invoiceId);
  }

  @Authorized(Permission.BillingManage)
  @Mutation(() => InvoiceView, { description: 'Open invoices only; a void invoice keeps its number.' })
  voidInvoice(
    @Ctx() ctx: RequestContext,
    @Arg('organizationSlug', () => String) organizationSlug: string,
    @Arg('invoiceId', () => ID) invoiceId: string,
  ): Promise<InvoiceView> {
    return this.invoiceService.markVoid(ctx, organizationSlug, invoiceId);
  }
}
