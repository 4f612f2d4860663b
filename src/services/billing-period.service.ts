import { Not, type DataSource, type EntityManager } from 'typeorm';
import { paymentProvider, type PaymentProvider } from '../billing/payment-provider';
import { periodEndAfter } from '../billing/periods';
import { Invoice, InvoiceStatus } from '../entities/invoice.entity';
import { Organization } from '../entities/organization.entity';
import { PaymentMethod } from '../entities/payment-method.entity';
import { Subscription, SubscriptionStatus } from '../entities/subscription.entity';
import { formatInvoiceNumber } from '../types/billing.types';
import { periodDraft, settleSubscriptionStatus } from './billing-invoice.service';
import { startFreeSubscription, type CurrentSubscription } from './billing-plan.service';
import { lockOrganization } from '../repositories/organization.repository';

export interface ClosePeriodsOptions {
  /** Close the periods that ended at or before this time. */
  now: Date;
  /** Only this organization's. */
  organizationId?: string;
  provider?: PaymentProvider;
}

export interface ClosedPeriod {
  organizationId: string;
  periodStart: Date;
  periodEnd: Date;
  /** Null when the period had nothing to bill (free, no change). */
  invoice: { id: string; number: string; totalCents: number; currency: string; status: InvoiceStatus } | null;
  /** Why the charge failed, when it did. */
  declined?: string;
}

export interface ClosePeriodsResult {
  closed: ClosedPeriod[];
  failed: { organizationId: string; error: unknown }[];
}

/**
 * Issues the period's invoice and charges it: paid, or left open when the charge is declined
 * (or there is no default payment method to charge). The charge is keyed by the invoice id, so a
 * provider deduplicates a retry after this transaction failed to commit.
 */
async function issue(
  tx: EntityManager,
  provider: PaymentProvider,
  subscription: CurrentSubscription,
  now: Date,
): Promise<Pick<ClosedPeriod, 'invoice' | 'declined'>> {
  const existing = await tx.findOneBy(Invoice, {
    subscriptionId: subscription.id,
    periodStart: subscription.currentPeriodStart,
  });
  // Without a draft, nothing changed in the period: a paid plan is charged its price, a free one nothing.
  const draft =
    existing ?? (subscription.plan.priceCents > 0 ? await periodDraft(tx, subscription, subscription.plan) : null);
  if (!draft) return { invoice: null };
  const invoice = await tx.findOneByOrFail(Invoice, { id: draft.id });
  let declined: string | undefined;
  if (invoice.totalCents > 0) {
    const method = await tx.findOneBy(PaymentMethod, { organizationId: subscription.organizationId, isDefault: true });
    const organization = await tx.findOneByOrFail(Organization, { id: subscription.organizationId });
    const outcome =
      method && organization.paymentCustomerRef
        ? await provider.charge({
            customerRef: organization.paymentCustomerRef,
            paymentMethodRef: method.providerRef,
            amountCents: invoice.totalCents,
            currency: invoice.currency,
            idempotencyKey: invoice.id,
            description: `Invoice ${formatInvoiceNumber(invoice.number)}`,
          })
        : { status: 'declined' as const, reason: 'no default payment method' };
    if (outcome.status === 'declined') declined = outcome.reason;
  }
  // Nothing to collect (a period whose credits net it to zero) is settled as it is issued.
  const status = declined === undefined ? InvoiceStatus.PAID : InvoiceStatus.OPEN;
  await tx.update(
    Invoice,
    { id: invoice.id },
    { status, issuedAt: now, paidAt: status === InvoiceStatus.PAID ? now : null },
  );
  return {
    invoice: {
      id: invoice.id,
      number: formatInvoiceNumber(invoice.number),
      totalCents: invoice.totalCents,
      currency: invoice.currency,
      status,
    },
    declined,
  };
}

/** The next period: the same plan, or free after a cancellation. A paid period opens its draft at once. */
async function startNextPeriod(tx: EntityManager, subscription: CurrentSubscription): Promise<void> {
  const end = subscription.currentPeriodEnd;
  if (subscription.cancelAtPeriodEnd) {
    await tx.update(Subscription, { id: subscription.id }, { status: SubscriptionStatus.CANCELED, canceledAt: end });
    await startFreeSubscription(tx, subscription.organizationId, end);
  } else {
    const next = { currentPeriodStart: end, currentPeriodEnd: periodEndAfter(end) };
    await tx.update(Subscription, { id: subscription.id }, next);
    if (subscription.plan.priceCents > 0) await periodDraft(tx, { ...subscription, ...next }, subscription.plan);
  }
  await settleSubscriptionStatus(tx, subscription.organizationId);
}

/** Closes the organization's current period if it ended by `now`; null when it has not. */
async function closeOnePeriod(
  db: DataSource,
  provider: PaymentProvider,
  organizationId: string,
  now: Date,
): Promise<ClosedPeriod | null> {
  return db.transaction(async (tx) => {
    // The lock every billing change takes: a concurrent run waits here, then finds the period closed.
    await lockOrganization(tx, organizationId);
    const subscription = await tx.findOne(Subscription, {
      where: { organizationId, status: Not(SubscriptionStatus.CANCELED) },
      relations: { plan: true },
    });
    // Gone (the organization was deleted meanwhile), or closed by a concurrent run.
    if (!subscription?.plan || subscription.currentPeriodEnd > now) return null;
    const issued = await issue(tx, provider, subscription as CurrentSubscription, now);
    await startNextPeriod(tx, subscription as CurrentSubscription);
    return {
      organizationId,
      periodStart: subscription.currentPeriodStart,
      periodEnd: subscription.currentPeriodEnd,
      ...issued,
    };
  });
}

/**
 * `npm run billing:close-periods`: closes every period that has ended by `now`, oldest first,
 * each in a transaction of its own. Idempotent: a period is closed once, however many runs
 * there are, one after the other or at the same time.
 */
export async function closePeriods(db: DataSource, options: ClosePeriodsOptions): Promise<ClosePeriodsResult> {
  const provider = options.provider ?? paymentProvider;
  const query = db
    .getRepository(Subscription)
    .createQueryBuilder('subscription')
    .select('subscription.organization_id', 'organizationId')
    .where('subscription.status <> :canceled', { canceled: SubscriptionStatus.CANCELED })
    .andWhere('subscription.current_period_end <= :now', { now: options.now })
    .orderBy('subscription.current_period_end', 'ASC')
    .addOrderBy('subscription.organization_id', 'ASC');
  if (options.organizationId) {
    query.andWhere('subscription.organization_id = :organizationId', { organizationId: options.organizationId });
  }
  const due = await query.getRawMany<{ organizationId: string }>();
  const result: ClosePeriodsResult = { closed: [], failed: [] };
  for (const { organizationId } of due) {
    try {
      // Several periods behind (the job did not run for months): one at a time, in order.
      for (;;) {
        const period = await closeOnePeriod(db, provider, organizationId, options.now);
        if (!period) break;
        result.closed.push(period);
      }
    } catch (error) {
      // One organization's failure (its transaction rolled back) does not hold up the others.
      result.failed.push({ organizationId, error });
    }
  }
  return result;
}
