import type { EntityManager } from 'typeorm';
import { INVOICE_LINE } from './shapes';
import { InvoiceLineItem } from '../entities/invoice-line-item.entity';
import { Invoice, InvoiceStatus } from '../entities/invoice.entity';

export type NewDraft = Pick<
  Invoice,
  'organizationId' | 'subscriptionId' | 'number' | 'currency' | 'periodStart' | 'periodEnd'
>;

export interface NewLine {
  description: string;
  amountCents: number;
  periodStart: Date;
  periodEnd: Date;
}

/** A page of one invoice's lines, in (created_at, id) order. */
export interface LinePageKey {
  invoiceId: string;
  limit: number;
  after: { createdAt: Date; id: string } | null;
}

export interface LinePage {
  rows: InvoiceLineItem[];
  totalCount: number;
}

/** Page keys are values: the same invoice, size and cursor is the same page. */
export function linePageCacheKey(key: LinePageKey): string {
  return `${key.invoiceId}|${key.limit}|${key.after?.createdAt.toISOString() ?? ''}|${key.after?.id ?? ''}`;
}

type LineRow = Record<string, unknown> & { invoice_id: string; l_id: string | null; total: string };

/** Invoices and their lines: an invoice's totals are the sum of its lines, kept as lines are added. */
export const invoiceRepository = {
  byId(db: EntityManager, organizationId: string, id: string): Promise<Invoice | null> {
    return db.findOneBy(Invoice, { id, organizationId });
  },

  /** The invoice of a subscription's period (its draft until the period closes). */
  ofPeriod(db: EntityManager, subscriptionId: string, periodStart: Date): Promise<Invoice | null> {
    return db.findOneBy(Invoice, { subscriptionId, periodStart });
  },

  /** The draft of the organization's current period, if it has one. */
  latestDraft(db: EntityManager, organizationId: string): Promise<Invoice | null> {
    return db.findOne(Invoice, {
      where: { organizationId, status: InvoiceStatus.DRAFT },
      order: { number: 'DESC' },
    });
  },

  /** Up to `limit` issued invoices numbered below `before`, newest first, and how many were issued in all. */
  async issuedPage(
    db: EntityManager,
    organizationId: string,
    limit: number,
    before: number | null,
  ): Promise<{ rows: Invoice[]; totalCount: number }> {
    const query = db
      .createQueryBuilder(Invoice, 'invoice')
      .where('invoice.organization_id = :organizationId', { organizationId })
      .andWhere('invoice.status <> :draft', { draft: InvoiceStatus.DRAFT });
    const totalCount = await query.getCount();
    if (before !== null) query.andWhere('invoice.number < :before', { before });
    const rows = await query.orderBy('invoice.number', 'DESC').limit(limit).getMany();
    return { rows, totalCount };
  },

  /** Open invoices whose next retry is due: issued at or before `dueBy[retries]`, fewer than `dueBy.length` retries. */
  async retriesDue(db: EntityManager, dueBy: readonly Date[]): Promise<Invoice[]> {
    if (!dueBy.length) return [];
    return db
      .createQueryBuilder(Invoice, 'invoice')
      .where('invoice.status = :open', { open: InvoiceStatus.OPEN })
      .andWhere('invoice.organization_id IS NOT NULL')
      .andWhere('invoice.payment_retries < :retries', { retries: dueBy.length })
      .andWhere('invoice.issued_at <= (:dueBy::timestamptz[])[invoice.payment_retries + 1]', { dueBy })
      .orderBy('invoice.issued_at', 'ASC')
      .getMany();
  },

  async countRetry(tx: EntityManager, id: string): Promise<void> {
    await tx.query(
      'UPDATE platform.invoices SET payment_retries = payment_retries + 1, updated_at = now() WHERE id = $1',
      [id],
    );
  },

  hasOpen(db: EntityManager, organizationId: string): Promise<boolean> {
    return db.existsBy(Invoice, { organizationId, status: InvoiceStatus.OPEN });
  },

  insertDraft(tx: EntityManager, draft: NewDraft): Promise<Invoice> {
    return tx.save(
      tx.create(Invoice, {
        ...draft,
        status: InvoiceStatus.DRAFT,
        subtotalCents: 0,
        taxCents: 0,
        totalCents: 0,
        issuedAt: null,
        paidAt: null,
      }),
    );
  },

  /** Adds a line and brings the invoice's totals up to date. */
  async addLine(tx: EntityManager, invoiceId: string, line: NewLine): Promise<void> {
    await tx.insert(InvoiceLineItem, {
      invoiceId,
      description: line.description,
      quantity: 1,
      unitAmountCents: line.amountCents,
      amountCents: line.amountCents,
      periodStart: line.periodStart,
      periodEnd: line.periodEnd,
    });
    await tx.query(
      `UPDATE platform.invoices SET subtotal_cents = lines.sum, total_cents = lines.sum + tax_cents, updated_at = now()
       FROM (SELECT COALESCE(sum(amount_cents), 0)::integer AS sum FROM platform.invoice_line_items WHERE invoice_id = $1) lines
       WHERE id = $1`,
      [invoiceId],
    );
  },

  /** Issues a draft (with `issuedAt`) or settles an issued invoice. */
  async setStatus(
    tx: EntityManager,
    id: string,
    change: { status: InvoiceStatus; issuedAt?: Date; paidAt: Date | null },
  ): Promise<void> {
    await tx.update(Invoice, { id }, change);
  },

  /**
   * One statement for the line pages of many invoices (those with the same page size and
   * cursor): per invoice, how many lines it has and the first `limit` of them after the cursor.
   */
  async linePages(db: EntityManager, keys: readonly LinePageKey[]): Promise<LinePage[]> {
    const groups = new Map<string, LinePageKey[]>();
    for (const key of keys) {
      const shape = `${key.limit}|${key.after?.createdAt.toISOString() ?? ''}|${key.after?.id ?? ''}`;
      groups.set(shape, [...(groups.get(shape) ?? []), key]);
    }
    const pages = new Map<string, LinePage>();
    for (const group of groups.values()) {
      const { limit, after } = group[0];
      const rows = await db.query<LineRow[]>(
        `SELECT totals.invoice_id, totals.total, ${INVOICE_LINE.select('l', 'l_')}
         FROM (SELECT invoice_id, count(*) AS total FROM platform.invoice_line_items
               WHERE invoice_id = ANY($1::uuid[]) GROUP BY invoice_id) totals
         LEFT JOIN LATERAL (
           SELECT * FROM platform.invoice_line_items l
           WHERE l.invoice_id = totals.invoice_id
             AND ($2::timestamptz IS NULL OR (l.created_at, l.id) > ($2::timestamptz, $3::uuid))
           ORDER BY l.created_at, l.id
           LIMIT $4
         ) l ON true
         ORDER BY totals.invoice_id, l.created_at, l.id`,
        [group.map((key) => key.invoiceId), after?.createdAt ?? null, after?.id ?? null, limit],
      );
      for (const key of group) {
        const mine = rows.filter((row) => row.invoice_id === key.invoiceId);
        pages.set(linePageCacheKey(key), {
          rows: mine.filter((row) => row.l_id !== null).map((row) => INVOICE_LINE.fromRow(row, 'l_')),
          totalCount: mine.length ? Number(mine[0].total) : 0,
        });
      }
    }
    return keys.map((key) => pages.get(linePageCacheKey(key)) as LinePage);
  },
};
