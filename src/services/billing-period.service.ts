import type { DataSource, EntityManager } from 'typeorm';
import { paymentProvider, type PaymentProvider } from '../billing/payment-provider';
import { periodEndAfter } from '../billing/periods';
import { runTransaction } from '../database/transaction';
import { InvoiceStatus } from '../entities/invoice.entity';
import { SubscriptionStatus } from '../entities/subscription.entity';
import { invoiceRepository } from '../repositories/billing-invoice.repository';
import { subscriptionRepository, type CurrentSubscription } from '../repositories/billing-subscription.repository';
import { lockOrganization } from '../repositories/organization.repository';
import { formatInvoiceNumber } from '../types/billing.types';
import { periodDraft } from './billing-invoice.service';
import { chargeInvoice, settleSubscriptionStatus } from './billing-collection.service';
import { startFreeSubscription } from './billing-plan.service';

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
  const existing = await invoiceRepository.ofPeriod(tx, subscription.id, subscription.currentPeriodStart);
  // Without a draft, nothing changed in the period: a paid plan is charged its price, a free one nothing.
  // A complimentary plan is not charged (what its period drafted before the gift stays).
  const charged = subscription.plan.priceCents > 0 && subscription.complimentaryUntil === null;
  const draft = existing ?? (charged ? await periodDraft(tx, subscription, subscription.plan) : null);
  if (!draft) return { invoice: null };
  // Read again: the draft's totals are kept by the statements that added its lines.
  const invoice = await invoiceRepository.byId(tx, subscription.organizationId, draft.id);
  if (!invoice) throw new Error(`Invoice ${draft.id} vanished under the organization's lock`);
  let declined: string | undefined;
  if (invoice.totalCents > 0) {
    const outcome = await chargeInvoice(tx, provider, invoice);
    if (outcome.status === 'declined') declined = outcome.reason;
  }
  // Nothing to collect (a period whose credits net it to zero) is settled as it is issued.
  const status = declined === undefined ? InvoiceStatus.PAID : InvoiceStatus.OPEN;
  await invoiceRepository.setStatus(tx, invoice.id, {
    status,
    issuedAt: now,
    paidAt: status === InvoiceStatus.PAID ? now : null,
  });
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
    await subscriptionRepository.update(tx, subscription.id, { status: SubscriptionStatus.CANCELED, canceledAt: end });
    await startFreeSubscription(tx, subscription.organizationId, end);
  } else {
    const next = { currentPeriodStart: end, currentPeriodEnd: periodEndAfter(end) };
    await subscriptionRepository.update(tx, subscription.id, next);
    if (subscription.plan.priceCents > 0 && subscription.complimentaryUntil === null) {
      await periodDraft(tx, { ...subscription, ...next }, subscription.plan);
    }
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
  return runTransaction(
    db,
    async (tx) => {
      // The lock every billing change takes: a concurrent run waits here, then finds the period closed.
      // A deleted organization's period still closes during its grace period: it was used until then.
      await lockOrganization(tx, organizationId, { deleted: true });
      const subscription = await subscriptionRepository.current(tx, organizationId);
      // Gone (the organization was deleted meanwhile), or closed by a concurrent run.
      if (!subscription || subscription.currentPeriodEnd > now) return null;
      const issued = await issue(tx, provider, subscription, now);
      await startNextPeriod(tx, subscription);
      return {
        organizationId,
        periodStart: subscription.currentPeriodStart,
        periodEnd: subscription.currentPeriodEnd,
        ...issued,
      };
      // The charge is inside: run again after a deadlock, a new draft would be charged again.
    },
    { retry: false },
  );
}

/**
 * `npm run billing:close-periods`: closes every period that has ended by `now`, oldest first,
 * each in a transaction of its own. Idempotent: a period is closed once, however many runs
 * there are, one after the other or at the same time.
 */
export async function closePeriods(db: DataSource, options: ClosePeriodsOptions): Promise<ClosePeriodsResult> {
  const provider = options.provider ?? paymentProvider;
  const due = await subscriptionRepository.endedBy(db.manager, options.now, options.organizationId);
  const result: ClosePeriodsResult = { closed: [], failed: [] };
  for (const organizationId of due) {
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
