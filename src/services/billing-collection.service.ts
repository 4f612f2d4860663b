import { diff, SYSTEM_ACTIONS } from '../audit/actions';
import { recordSystemAudit } from './audit.service';
import type { DataSource, EntityManager } from 'typeorm';
import type { BillingConfig } from '../config';
import { paymentProvider, type ChargeOutcome, type PaymentProvider } from '../billing/payment-provider';
import { runTransaction } from '../database/transaction';
import { SuspensionKind, type Organization } from '../entities/organization.entity';
import { InvoiceStatus, type Invoice } from '../entities/invoice.entity';
import { ProjectStatus } from '../entities/project.entity';
import { billingAccountRepository } from '../repositories/billing-account.repository';
import { invoiceRepository } from '../repositories/billing-invoice.repository';
import { paymentMethodRepository } from '../repositories/billing-payment-method.repository';
import { lockOrganization } from '../repositories/organization.repository';
import { platformRepository } from '../repositories/platform.repository';
import { projectRepository } from '../repositories/project.repository';
import { JOB, type JobEnqueuer } from '../request/jobs';
import { formatInvoiceNumber } from '../types/billing.types';
import { subscriptionRepository } from '../repositories/billing-subscription.repository';

/** The reason the past-due job gives: settling the debt lifts the suspension. */
export const PAST_DUE_REASON = 'past_due';

const DAY_MS = 24 * 3600 * 1000;

/** Running projects, which a suspension pauses. */
const RUNNING = [ProjectStatus.ACTIVE_HEALTHY, ProjectStatus.PAUSE_FAILED];

/** A subscription is past due while its organization has an open (unpaid, not written off) invoice. */
export async function settleSubscriptionStatus(tx: EntityManager, organizationId: string): Promise<void> {
  const owing = await invoiceRepository.hasOpen(tx, organizationId);
  await subscriptionRepository.setStanding(tx, organizationId, owing);
}

/** Charges an issued invoice to the organization's default payment method (keyed by the invoice: never twice). */
export async function chargeInvoice(
  tx: EntityManager,
  provider: PaymentProvider,
  invoice: Invoice,
): Promise<ChargeOutcome> {
  const organizationId = invoice.organizationId ?? '';
  const method = await paymentMethodRepository.defaultOf(tx, organizationId);
  const account = await billingAccountRepository.byId(tx, organizationId);
  if (!method || !account?.paymentCustomerRef) return { status: 'declined', reason: 'no default payment method' };
  return provider.charge({
    customerRef: account.paymentCustomerRef,
    paymentMethodRef: method.providerRef,
    amountCents: invoice.totalCents,
    currency: invoice.currency,
    idempotencyKey: invoice.id,
    description: `Invoice ${formatInvoiceNumber(invoice.number)}`,
  });
}

/**
 * After an invoice was paid or voided: the subscription's standing follows, and once nothing is
 * owed a suspension for it (never one a platform admin set) is lifted. The caller holds the lock.
 */
export async function afterSettlement(tx: EntityManager, organizationId: string): Promise<void> {
  await settleSubscriptionStatus(tx, organizationId);
  if (!(await invoiceRepository.hasOpen(tx, organizationId))) {
    await platformRepository.unsuspend(tx, organizationId, SuspensionKind.PAST_DUE);
  }
}

/**
 * Suspends the organization and pauses its running projects, each step enqueued in this
 * transaction. The caller holds the organization's lock. Restoring them is left to the owners.
 */
export async function suspendOrganization(
  tx: EntityManager,
  jobs: JobEnqueuer,
  organizationId: string,
  suspension: { reason: string; kind: SuspensionKind; requestId?: string },
): Promise<Organization | null> {
  const suspended = await platformRepository.suspend(
    tx,
    organizationId,
    suspension.reason,
    suspension.kind,
    new Date(),
  );
  if (suspended) await pauseRunning(tx, jobs, organizationId, suspension.requestId);
  return suspended;
}

async function pauseRunning(tx: EntityManager, jobs: JobEnqueuer, organizationId: string, requestId?: string) {
  const paused = await projectRepository.transitionAll(tx, organizationId, RUNNING, ProjectStatus.PAUSING);
  for (const projectId of paused) {
    await jobs.enqueue(tx, JOB.projectStep, { projectId, step: 'pause', requestId }, { singletonKey: projectId });
  }
}

export interface CollectionResult {
  retried: { invoiceId: string; paid: boolean }[];
  suspended: string[];
}

/** One retry of one invoice's charge, in a transaction of its own, under its organization's lock. */
async function retryCharge(db: DataSource, provider: PaymentProvider, found: Invoice): Promise<boolean> {
  return runTransaction(
    db,
    async (tx) => {
      const organizationId = found.organizationId ?? '';
      if (!(await lockOrganization(tx, organizationId, { deleted: true }))) return false;
      const invoice = await invoiceRepository.byId(tx, organizationId, found.id);
      if (invoice?.status !== InvoiceStatus.OPEN) return false;
      const outcome = await chargeInvoice(tx, provider, invoice);
      if (outcome.status === 'declined') {
        await invoiceRepository.countRetry(tx, invoice.id);
        return false;
      }
      await invoiceRepository.setStatus(tx, invoice.id, { status: InvoiceStatus.PAID, paidAt: new Date() });
      await afterSettlement(tx, organizationId);
      return true;
      // The charge is inside: run again after a deadlock, it would be charged again.
    },
    { retry: false },
  );
}

/**
 * The scheduled collection, as of `asOf`: declined charges are tried again on the days of
 * PAYMENT_RETRY_DAYS after issue; an invoice still open PAST_DUE_SUSPEND_DAYS after issue
 * suspends its organization (reason `past_due`); a suspended organization's projects that came
 * up after its suspension are paused too.
 */
export async function collectPastDue(
  db: DataSource,
  jobs: JobEnqueuer,
  config: BillingConfig,
  asOf: Date,
  provider: PaymentProvider = paymentProvider,
): Promise<CollectionResult> {
  const result: CollectionResult = { retried: [], suspended: [] };
  if (!config.enabled) return result;
  const dueBy = config.paymentRetryDays.map((days) => new Date(asOf.getTime() - days * DAY_MS));
  for (const invoice of await invoiceRepository.retriesDue(db.manager, dueBy)) {
    result.retried.push({ invoiceId: invoice.id, paid: await retryCharge(db, provider, invoice) });
  }
  const issuedBy = new Date(asOf.getTime() - config.pastDueSuspendDays * DAY_MS);
  for (const organizationId of await platformRepository.pastDue(db.manager, issuedBy)) {
    const suspended = await runTransaction(db, async (tx) => {
      if (!(await lockOrganization(tx, organizationId))) return false;
      // Asked again under the lock: paid, or suspended by an admin, since the list was read.
      if (!(await platformRepository.pastDue(tx, issuedBy, organizationId)).length) return false;
      const kind = SuspensionKind.PAST_DUE;
      const suspended = await suspendOrganization(tx, jobs, organizationId, { reason: PAST_DUE_REASON, kind });
      if (suspended) {
        await recordSystemAudit(tx, {
          action: SYSTEM_ACTIONS.organizationSuspend,
          organizationId,
          target: { type: 'organization', id: organizationId, label: suspended.slug },
          changes: diff({ suspensionReason: null }, { suspensionReason: PAST_DUE_REASON }),
        });
      }
      return suspended !== null;
    });
    if (suspended) result.suspended.push(organizationId);
  }
  for (const organizationId of await projectRepository.suspendedWithRunning(db.manager, RUNNING)) {
    await runTransaction(db, async (tx) => {
      if (await lockOrganization(tx, organizationId)) await pauseRunning(tx, jobs, organizationId);
    });
  }
  return result;
}
