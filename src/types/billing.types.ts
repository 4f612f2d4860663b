import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { InvoiceLineItem } from '../entities/invoice-line-item.entity';
import { InvoiceStatus, type Invoice } from '../entities/invoice.entity';
import type { BillingAddress, Organization } from '../entities/organization.entity';
import type { PaymentMethod } from '../entities/payment-method.entity';
import type { Plan } from '../entities/plan.entity';
import { SubscriptionStatus, type Subscription } from '../entities/subscription.entity';

/**
 * An organization's billing. Its fields are resolved (and guarded) one by one in the resolver.
 * One per organization: its id is the organization's, a stable cache key.
 */
@ObjectType()
export class Billing {
  @Field(() => ID, { description: "The organization's id: one billing per organization." })
  readonly id: string;

  constructor(readonly organizationId: string) {
    this.id = organizationId;
  }
}

@ObjectType('Plan')
export class PlanView {
  @Field(() => ID)
  id: string;

  @Field()
  code: string;

  @Field()
  name: string;

  @Field(() => Int, { description: 'A month, in minor units of the currency.' })
  priceCents: number;

  @Field()
  currency: string;

  @Field(() => Int, { nullable: true, description: 'Active projects allowed (all but paused ones); null: unlimited.' })
  maxProjects: number | null;

  static from(plan: Plan): PlanView {
    return Object.assign(new PlanView(), {
      id: plan.id,
      code: plan.code,
      name: plan.name,
      priceCents: plan.priceCents,
      currency: plan.currency,
      maxProjects: plan.maxProjects,
    });
  }
}

/** Not `Subscription`: schema tools read a type of that name as the subscription root. */
@ObjectType('BillingSubscription', { description: "An organization's current subscription to a plan." })
export class SubscriptionView {
  organizationId: string;

  @Field(() => ID, {
    description: 'The same across plan changes and periods; the subscription that follows a cancellation has its own.',
  })
  id: string;

  @Field(() => PlanView)
  plan: PlanView;

  @Field(() => SubscriptionStatus)
  status: SubscriptionStatus;

  @Field()
  currentPeriodStart: Date;

  @Field()
  currentPeriodEnd: Date;

  @Field({ description: 'At the end of the period the organization moves to the free plan.' })
  cancelAtPeriodEnd: boolean;

  static from(subscription: Subscription & { plan: Plan }): SubscriptionView {
    return Object.assign(new SubscriptionView(), {
      organizationId: subscription.organizationId,
      id: subscription.id,
      plan: PlanView.from(subscription.plan),
      status: subscription.status,
      currentPeriodStart: subscription.currentPeriodStart,
      currentPeriodEnd: subscription.currentPeriodEnd,
      cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
    });
  }
}

@ObjectType('PaymentMethod', { description: 'A card held by the payment provider; never its number.' })
export class PaymentMethodView {
  organizationId: string;

  @Field(() => ID)
  id: string;

  @Field()
  brand: string;

  @Field()
  last4: string;

  @Field(() => Int)
  expMonth: number;

  @Field(() => Int)
  expYear: number;

  @Field()
  isDefault: boolean;

  static from(method: PaymentMethod): PaymentMethodView {
    return Object.assign(new PaymentMethodView(), {
      organizationId: method.organizationId,
      id: method.id,
      brand: method.brand,
      last4: method.last4,
      expMonth: method.expMonth,
      expYear: method.expYear,
      isDefault: method.isDefault,
    });
  }
}

@ObjectType('InvoiceLine')
export class InvoiceLineView {
  @Field(() => ID)
  id: string;

  @Field()
  description: string;

  @Field(() => Int)
  quantity: number;

  @Field(() => Int, { description: 'Negative for a credit.' })
  unitAmountCents: number;

  @Field(() => Int)
  amountCents: number;

  @Field(() => Date, { nullable: true })
  periodStart: Date | null;

  @Field(() => Date, { nullable: true })
  periodEnd: Date | null;

  static from(line: InvoiceLineItem): InvoiceLineView {
    return Object.assign(new InvoiceLineView(), {
      id: line.id,
      description: line.description,
      quantity: line.quantity,
      unitAmountCents: line.unitAmountCents,
      amountCents: line.amountCents,
      periodStart: line.periodStart,
      periodEnd: line.periodEnd,
    });
  }
}

/** Invoice numbers are shown zero-padded: 000001, 000002… in each organization. */
export function formatInvoiceNumber(number: number): string {
  return String(number).padStart(6, '0');
}

/** An invoice; its lines are a paged field of their own (Invoice.lines, in billing-payments.resolver.ts). */
@ObjectType('Invoice')
export class InvoiceView {
  organizationId: string;

  @Field(() => ID)
  id: string;

  @Field({ description: 'Sequential in the organization, without gaps.' })
  number: string;

  @Field(() => InvoiceStatus)
  status: InvoiceStatus;

  @Field()
  currency: string;

  @Field(() => Int)
  subtotalCents: number;

  @Field(() => Int)
  taxCents: number;

  @Field(() => Int)
  totalCents: number;

  @Field()
  periodStart: Date;

  @Field()
  periodEnd: Date;

  @Field(() => Date, { nullable: true, description: 'null while a draft.' })
  issuedAt: Date | null;

  @Field(() => Date, { nullable: true })
  paidAt: Date | null;

  static from(invoice: Invoice): InvoiceView {
    return Object.assign(new InvoiceView(), {
      organizationId: invoice.organizationId,
      id: invoice.id,
      number: formatInvoiceNumber(invoice.number),
      status: invoice.status,
      currency: invoice.currency,
      subtotalCents: invoice.subtotalCents,
      taxCents: invoice.taxCents,
      totalCents: invoice.totalCents,
      periodStart: invoice.periodStart,
      periodEnd: invoice.periodEnd,
      issuedAt: invoice.issuedAt,
      paidAt: invoice.paidAt,
    });
  }
}

@ObjectType('BillingAddress')
export class BillingAddressView {
  @Field()
  line1: string;

  @Field(() => String, { nullable: true })
  line2: string | null;

  @Field()
  city: string;

  @Field()
  postalCode: string;

  @Field(() => String, { nullable: true })
  region: string | null;

  @Field({ description: 'ISO 3166-1 alpha-2 country code.' })
  country: string;

  static from(address: BillingAddress): BillingAddressView {
    return Object.assign(new BillingAddressView(), {
      line1: address.line1,
      line2: address.line2 ?? null,
      city: address.city,
      postalCode: address.postalCode,
      region: address.region ?? null,
      country: address.country,
    });
  }
}

@ObjectType('BillingDetails', { description: 'What invoices are addressed to.' })
export class BillingDetailsView {
  @Field(() => ID, { description: "The organization's id: one set of details per organization." })
  id: string;

  @Field(() => String, { nullable: true })
  email: string | null;

  @Field(() => String, { nullable: true })
  taxId: string | null;

  @Field(() => BillingAddressView, { nullable: true })
  address: BillingAddressView | null;

  static from(organization: Organization): BillingDetailsView {
    return Object.assign(new BillingDetailsView(), {
      id: organization.id,
      email: organization.billingEmail,
      taxId: organization.taxId,
      address: organization.billingAddress ? BillingAddressView.from(organization.billingAddress) : null,
    });
  }
}
