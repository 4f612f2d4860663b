import { recordAudit } from './audit.service';
import { AUDIT_ACTIONS, diff } from '../audit/actions';
import type { EntityManager } from 'typeorm';
import type { OrganizationDecision } from '../auth/access';
import { invoiceCursor } from '../billing/page-cursors';
import { InvoiceStatus, type Invoice } from '../entities/invoice.entity';
import type { Plan } from '../entities/plan.entity';
import type { Subscription } from '../entities/subscription.entity';
import { ConflictError, NotFoundError, PaymentDeclinedError } from '../errors';
import { paymentProvider, type PaymentProvider } from '../billing/payment-provider';
import { lockOrganization } from '../repositories/organization.repository';
import { afterSettlement, chargeInvoice } from './billing-collection.service';
import { auditPlatformAction } from './platform-audit';
import { requireBilling } from './billing-switch';
import { pageRequest, toPage } from '../graphql/pagination';
import { assertUuid } from '../inputs/ids';
import { billingAccountRepository } from '../repositories/billing-account.repository';
import { invoiceRepository, type NewLine } from '../repositories/billing-invoice.repository';
import { lockLiveOrganization } from './organization-lock';
import type { RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import { formatInvoiceNumber, InvoiceLineView, InvoiceView } from '../types/billing.types';
import type { Page } from '../types/connection.type';

export type { NewLine } from '../repositories/billing-invoice.repository';

export function addLine(tx: EntityManager, invoice: Invoice, line: NewLine): Promise<void> {
  return invoiceRepository.addLine(tx, invoice.id, line);
}

function planLine(plan: Plan, periodStart: Date, periodEnd: Date): NewLine {
  return { description: `${plan.name} plan`, amountCents: plan.priceCents, periodStart, periodEnd };
}

/**
 * The draft invoice of the subscription's current period, opened if need be with the charge of
 * `plan`, which must be the plan the period started on. A draft is opened at the start of every
 * paid period and before every plan change, so a period without one has had no change and its
 * plan is the current one. Each draft takes the next number and is issued when its period closes,
 * so issued numbers have no gaps. The caller holds the organization's lock.
 */
export async function periodDraft(tx: EntityManager, subscription: Subscription, plan: Plan): Promise<Invoice> {
  const existing = await invoiceRepository.ofPeriod(tx, subscription.id, subscription.currentPeriodStart);
  if (existing) return existing;
  const draft = await invoiceRepository.insertDraft(tx, {
    organizationId: subscription.organizationId,
    subscriptionId: subscription.id,
    number: await billingAccountRepository.takeInvoiceNumber(tx, subscription.organizationId),
    currency: plan.currency,
    periodStart: subscription.currentPeriodStart,
    periodEnd: subscription.currentPeriodEnd,
  });
  if (plan.priceCents !== 0) {
    await addLine(tx, draft, planLine(plan, subscription.currentPeriodStart, subscription.currentPeriodEnd));
  }
  return draft;
}

/** What an issued invoice can become, by hand. */
const SETTLEMENTS = {
  [InvoiceStatus.PAID]: [InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE],
  [InvoiceStatus.VOID]: [InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE],
} as const;

export class InvoiceService {
  constructor(private readonly provider: PaymentProvider) {}

  /** Issued invoices, newest first (the draft of the current period is `upcoming`). */
  async list(
    ctx: RequestContext,
    access: OrganizationDecision,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<InvoiceView>> {
    const { organization } = await access.get();
    return this.listOf(ctx, organization.id, first, after);
  }

  /** The same, for an organization the caller was let into some other way (the operator's view). */
  async listOf(
    ctx: RequestContext,
    organizationId: string,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<InvoiceView>> {
    const organization = { id: organizationId };
    const { limit } = pageRequest(ctx, first, null);
    const before = after ? invoiceCursor.decode(after) : null;
    const { rows, totalCount } = await invoiceRepository.issuedPage(ctx.db.manager, organization.id, limit + 1, before);
    const nodes = rows.slice(0, limit);
    const last = nodes.at(-1);
    return {
      nodes: nodes.map((invoice) => InvoiceView.from(invoice)),
      totalCount,
      pageInfo: { hasNextPage: rows.length > limit, endCursor: last ? invoiceCursor.encode(last.number) : null },
    };
  }

  /** The current period's draft: what the next invoice holds so far; null when nothing is due yet. */
  async upcoming(ctx: RequestContext, access: OrganizationDecision): Promise<InvoiceView | null> {
    const { organization } = await access.get();
    const draft = await invoiceRepository.latestDraft(ctx.db.manager, organization.id);
    return draft ? InvoiceView.from(draft) : null;
  }

  /** An invoice's lines, oldest first. */
  async lines(
    ctx: RequestContext,
    access: OrganizationDecision,
    invoice: InvoiceView,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<InvoiceLineView>> {
    // The guard decided on the invoice's own organization.
    await access.get();
    const { limit, after: position } = pageRequest(ctx, first, after);
    const { rows, totalCount } = await ctx.loaders.invoiceLinePages.load({
      invoiceId: invoice.id,
      limit: limit + 1,
      after: position,
    });
    const page = toPage(rows, limit, totalCount);
    return { ...page, nodes: page.nodes.map((line) => InvoiceLineView.from(line)) };
  }

  /**
   * Charges an open invoice to the default payment method now: paid, or PAYMENT_DECLINED with the
   * invoice left open. Allowed while suspended: paying is how a past-due suspension ends.
   */
  async pay(ctx: RequestContext, access: OrganizationDecision, invoiceId: string): Promise<InvoiceView> {
    requireBilling(ctx);
    const { organization } = await access.get();
    assertUuid('invoiceId', invoiceId);
    const outcome = await inTransaction(
      ctx,
      async (tx): Promise<{ paid: InvoiceView } | { declined: string }> => {
        await lockLiveOrganization(tx, organization.id, undefined, { settles: true });
        const invoice = await invoiceRepository.byId(tx, organization.id, invoiceId);
        if (!invoice) throw new NotFoundError('Invoice');
        if (invoice.status !== InvoiceStatus.OPEN) {
          throw new ConflictError(
            `Invoice ${formatInvoiceNumber(invoice.number)} is ${invoice.status}; only an open invoice can be paid`,
            'invoiceId',
          );
        }
        const charged = await chargeInvoice(tx, this.provider, invoice);
        await recordAudit(ctx, tx, {
          action: AUDIT_ACTIONS.payInvoice,
          organizationId: organization.id,
          target: { type: 'invoice', id: invoice.id, label: formatInvoiceNumber(invoice.number) },
          changes: diff({ status: invoice.status }, { status: charged.status === 'declined' ? 'declined' : 'paid' }),
        });
        if (charged.status === 'declined') return { declined: charged.reason };
        const paid = { ...invoice, status: InvoiceStatus.PAID, paidAt: new Date() };
        await invoiceRepository.setStatus(tx, invoice.id, { status: paid.status, paidAt: paid.paidAt });
        await afterSettlement(tx, organization.id);
        return { paid: InvoiceView.from(paid) };
        // The provider is called inside: run again after a deadlock, it would charge again.
      },
      { retry: false },
    );
    if ('declined' in outcome) throw new PaymentDeclinedError(outcome.declined);
    return outcome.paid;
  }

  /** Records a payment made outside the provider (a bank transfer, say): the operator's, not the tenant's. */
  markPaid(ctx: RequestContext, organizationId: string, invoiceId: string): Promise<InvoiceView> {
    return this.settle(ctx, organizationId, invoiceId, InvoiceStatus.PAID);
  }

  markVoid(ctx: RequestContext, organizationId: string, invoiceId: string): Promise<InvoiceView> {
    return this.settle(ctx, organizationId, invoiceId, InvoiceStatus.VOID);
  }

  private async settle(
    ctx: RequestContext,
    organizationId: string,
    invoiceId: string,
    to: keyof typeof SETTLEMENTS,
  ): Promise<InvoiceView> {
    const organization = { id: organizationId };
    assertUuid('invoiceId', invoiceId);
    const from = SETTLEMENTS[to];
    return inTransaction(ctx, async (tx) => {
      // A deleted organization's invoices are settled too: its bills outlive it.
      if (!(await lockOrganization(tx, organization.id, { deleted: true }))) throw new NotFoundError('Organization');
      // Gone with its organization too, when that was deleted while this request waited for the lock.
      const invoice = await invoiceRepository.byId(tx, organization.id, invoiceId);
      if (!invoice) throw new NotFoundError('Invoice');
      if (!(from as readonly InvoiceStatus[]).includes(invoice.status)) {
        throw new ConflictError(
          `Invoice ${formatInvoiceNumber(invoice.number)} is ${invoice.status}; only an ${from.join(' or ')} invoice can become ${to}`,
          'status',
        );
      }
      const settled = { ...invoice, status: to, paidAt: to === InvoiceStatus.PAID ? new Date() : null };
      await invoiceRepository.setStatus(tx, invoice.id, { status: settled.status, paidAt: settled.paidAt });
      await afterSettlement(tx, organization.id);
      await auditPlatformAction(ctx, tx, {
        action: to === InvoiceStatus.PAID ? AUDIT_ACTIONS.markInvoicePaid : AUDIT_ACTIONS.voidInvoice,
        organizationId,
        target: { type: 'invoice', id: invoice.id, label: formatInvoiceNumber(invoice.number) },
        changes: diff({ status: invoice.status }, { status: to }),
      });
      return InvoiceView.from(settled);
    });
  }
}

export const invoiceService = new InvoiceService(paymentProvider);
