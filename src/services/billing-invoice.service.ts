import { In, type EntityManager } from 'typeorm';
import { organizationAccess } from '../auth/access';
import type { RequestContext } from '../request/context';
import { Permission } from '../permissions';
import { inTransaction } from '../request/transaction';
import { InvoiceLineItem } from '../entities/invoice-line-item.entity';
import { Invoice, InvoiceStatus } from '../entities/invoice.entity';
import { Organization } from '../entities/organization.entity';
import type { Plan } from '../entities/plan.entity';
import { Subscription, SubscriptionStatus } from '../entities/subscription.entity';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors';
import { assertUuid } from '../inputs/ids';
import { formatInvoiceNumber, InvoiceView, type Billing } from '../types/billing.types';
import type { Page } from '../types/connection.type';
import { lockOrganization } from '../repositories/organization.repository';
import { pageRequest } from '../graphql/pagination';

/** Invoice list cursors: base64url of the last invoice number seen (lists run newest first). */
function encodeCursor(number: number): string {
  return Buffer.from(JSON.stringify(['invoice', number])).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const [kind, number] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (kind !== 'invoice' || typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
      throw new Error('bad cursor');
    }
    return number;
  } catch {
    throw BadUserInputError.field('after', 'after is not a cursor returned by this API');
  }
}

/** Invoices with their lines, in one statement for the lines of all of them. */
export async function invoiceViews(db: EntityManager, invoices: Invoice[]): Promise<InvoiceView[]> {
  const lines = invoices.length
    ? await db.find(InvoiceLineItem, {
        where: { invoiceId: In(invoices.map((invoice) => invoice.id)) },
        order: { createdAt: 'ASC', id: 'ASC' },
      })
    : [];
  return invoices.map((invoice) =>
    InvoiceView.from(
      invoice,
      lines.filter((line) => line.invoiceId === invoice.id),
    ),
  );
}

/** The next number of the organization, under its row lock: a rolled-back transaction leaves no gap. */
async function nextInvoiceNumber(tx: EntityManager, organizationId: string): Promise<number> {
  const result = await tx
    .createQueryBuilder()
    .update(Organization)
    .set({ lastInvoiceNumber: () => 'last_invoice_number + 1' })
    .where('id = :organizationId', { organizationId })
    .returning('last_invoice_number')
    .execute();
  const [row] = result.raw as { last_invoice_number: number }[];
  return row.last_invoice_number;
}

export interface NewLine {
  description: string;
  amountCents: number;
  periodStart: Date;
  periodEnd: Date;
}

export async function addLine(tx: EntityManager, invoice: Invoice, line: NewLine): Promise<void> {
  await tx.insert(InvoiceLineItem, {
    invoiceId: invoice.id,
    description: line.description,
    quantity: 1,
    unitAmountCents: line.amountCents,
    amountCents: line.amountCents,
    periodStart: line.periodStart,
    periodEnd: line.periodEnd,
  });
  await tx.query(
    `UPDATE invoices SET subtotal_cents = lines.sum, total_cents = lines.sum + tax_cents, updated_at = now()
     FROM (SELECT COALESCE(sum(amount_cents), 0)::integer AS sum FROM invoice_line_items WHERE invoice_id = $1) lines
     WHERE id = $1`,
    [invoice.id],
  );
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
  const existing = await tx.findOneBy(Invoice, {
    subscriptionId: subscription.id,
    periodStart: subscription.currentPeriodStart,
  });
  if (existing) return existing;
  const draft = await tx.save(
    tx.create(Invoice, {
      organizationId: subscription.organizationId,
      subscriptionId: subscription.id,
      number: await nextInvoiceNumber(tx, subscription.organizationId),
      status: InvoiceStatus.DRAFT,
      currency: plan.currency,
      subtotalCents: 0,
      taxCents: 0,
      totalCents: 0,
      periodStart: subscription.currentPeriodStart,
      periodEnd: subscription.currentPeriodEnd,
      issuedAt: null,
      paidAt: null,
    }),
  );
  if (plan.priceCents !== 0) {
    await addLine(tx, draft, planLine(plan, subscription.currentPeriodStart, subscription.currentPeriodEnd));
  }
  return draft;
}

/** A subscription is past due while its organization has an open (unpaid, not written off) invoice. */
export async function settleSubscriptionStatus(tx: EntityManager, organizationId: string): Promise<void> {
  const owing = await tx.existsBy(Invoice, { organizationId, status: InvoiceStatus.OPEN });
  await tx.update(
    Subscription,
    { organizationId, status: In([SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE]) },
    { status: owing ? SubscriptionStatus.PAST_DUE : SubscriptionStatus.ACTIVE },
  );
}

/** What an issued invoice can become, by hand. */
const SETTLEMENTS = {
  [InvoiceStatus.PAID]: [InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE],
  [InvoiceStatus.VOID]: [InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE],
} as const;

export class InvoiceService {
  /** Issued invoices, newest first (the draft of the current period is `upcoming`). */
  async list(
    ctx: RequestContext,
    billing: Billing,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<InvoiceView>> {
    const { organization } = await organizationAccess(ctx, { id: billing.organizationId }, Permission.BillingRead);
    const { limit } = pageRequest(ctx, first, null);
    const before = after ? decodeCursor(after) : null;
    const query = ctx.db
      .getRepository(Invoice)
      .createQueryBuilder('invoice')
      .where('invoice.organization_id = :organizationId', { organizationId: organization.id })
      .andWhere('invoice.status <> :draft', { draft: InvoiceStatus.DRAFT });
    const totalCount = await query.getCount();
    if (before !== null) query.andWhere('invoice.number < :before', { before });
    const rows = await query
      .orderBy('invoice.number', 'DESC')
      .take(limit + 1)
      .getMany();
    const nodes = await invoiceViews(ctx.db.manager, rows.slice(0, limit));
    const last = rows.slice(0, limit).at(-1);
    return {
      nodes,
      totalCount,
      pageInfo: { hasNextPage: rows.length > limit, endCursor: last ? encodeCursor(last.number) : null },
    };
  }

  /** The current period's draft: what the next invoice holds so far; null when nothing is due yet. */
  async upcoming(ctx: RequestContext, billing: Billing): Promise<InvoiceView | null> {
    await organizationAccess(ctx, { id: billing.organizationId }, Permission.BillingRead);
    const draft = await ctx.db.getRepository(Invoice).findOne({
      where: { organizationId: billing.organizationId, status: InvoiceStatus.DRAFT },
      order: { number: 'DESC' },
    });
    if (!draft) return null;
    const [view] = await invoiceViews(ctx.db.manager, [draft]);
    return view;
  }

  /** Records a payment made outside the provider (a bank transfer, say). */
  markPaid(ctx: RequestContext, organizationSlug: string, invoiceId: string): Promise<InvoiceView> {
    return this.settle(ctx, organizationSlug, invoiceId, InvoiceStatus.PAID);
  }

  markVoid(ctx: RequestContext, organizationSlug: string, invoiceId: string): Promise<InvoiceView> {
    return this.settle(ctx, organizationSlug, invoiceId, InvoiceStatus.VOID);
  }

  private async settle(
    ctx: RequestContext,
    organizationSlug: string,
    invoiceId: string,
    to: keyof typeof SETTLEMENTS,
  ): Promise<InvoiceView> {
    const { organization } = await organizationAccess(ctx, { slug: organizationSlug }, Permission.BillingManage);
    assertUuid('invoiceId', invoiceId);
    const from = SETTLEMENTS[to];
    return inTransaction(ctx, async (tx) => {
      await lockOrganization(tx, organization.id);
      const invoice = await tx.findOneBy(Invoice, { id: invoiceId, organizationId: organization.id });
      if (!invoice) throw new NotFoundError('Invoice');
      if (!(from as readonly InvoiceStatus[]).includes(invoice.status)) {
        throw new ConflictError(
          `Invoice ${formatInvoiceNumber(invoice.number)} is ${invoice.status}; only an ${from.join(' or ')} invoice can become ${to}`,
          'status',
        );
      }
      await tx.update(
        Invoice,
        { id: invoice.id },
        { status: to, paidAt: to === InvoiceStatus.PAID ? new Date() : null },
      );
      await settleSubscriptionStatus(tx, organization.id);
      const [view] = await invoiceViews(tx, [await tx.findOneByOrFail(Invoice, { id: invoice.id })]);
      return view;
    });
  }
}

export const invoiceService = new InvoiceService();
