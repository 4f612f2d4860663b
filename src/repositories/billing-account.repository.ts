import { IsNull, type EntityManager } from 'typeorm';
import { Organization, type BillingAddress } from '../entities/organization.entity';

export interface BillingDetailsChanges {
  billingEmail?: string | null;
  taxId?: string | null;
  billingAddress?: BillingAddress | null;
}

/**
 * An organization's billing account: the billing columns of its row (whom invoices are addressed
 * to, the provider's customer, the invoice counter).
 */
export const billingAccountRepository = {
  /** Null when the organization is gone. */
  byId(db: EntityManager, organizationId: string): Promise<Organization | null> {
    return db.findOneBy(Organization, { id: organizationId });
  },

  async idBySlug(db: EntityManager, slug: string): Promise<string | null> {
    const organization = await db.findOne(Organization, { select: { id: true }, where: { slug } });
    return organization?.id ?? null;
  },

  /** The organization as changed; null when it is gone or deleted. */
  async updateDetails(
    tx: EntityManager,
    organizationId: string,
    changes: BillingDetailsChanges,
  ): Promise<Organization | null> {
    if (Object.keys(changes).length > 0) {
      const { affected } = await tx.update(Organization, { id: organizationId, deletedAt: IsNull() }, changes);
      if (!affected) return null;
    }
    return tx.findOneBy(Organization, { id: organizationId, deletedAt: IsNull() });
  },

  async setCustomerRef(tx: EntityManager, organizationId: string, customerRef: string): Promise<void> {
    await tx.update(Organization, { id: organizationId }, { paymentCustomerRef: customerRef });
  },

  /** The organization's next invoice number, taken under its row lock: a rolled-back transaction leaves no gap. */
  async takeInvoiceNumber(tx: EntityManager, organizationId: string): Promise<number> {
    const result = await tx
      .createQueryBuilder()
      .update(Organization)
      .set({ lastInvoiceNumber: () => 'last_invoice_number + 1' })
      .where('id = :organizationId', { organizationId })
      .returning('last_invoice_number')
      .execute();
    const [row] = result.raw as { last_invoice_number: number }[];
    return row.last_invoice_number;
  },
};
