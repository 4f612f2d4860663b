import type { EntityManager } from 'typeorm';
import { PaymentMethod } from '../entities/payment-method.entity';

/** A position in the list order: the default first, then the oldest first. */
export interface PaymentMethodPosition {
  isDefault: boolean;
  createdAt: Date;
  id: string;
}

export type NewPaymentMethod = Pick<
  PaymentMethod,
  'organizationId' | 'provider' | 'providerRef' | 'brand' | 'last4' | 'expMonth' | 'expYear' | 'isDefault'
>;

/** An organization's payment methods. */
export const paymentMethodRepository = {
  /** Up to `limit` of them after `after`, in list order, and how many there are in all. */
  async page(
    db: EntityManager,
    organizationId: string,
    limit: number,
    after: PaymentMethodPosition | null,
  ): Promise<{ rows: PaymentMethod[]; totalCount: number }> {
    const query = db
      .createQueryBuilder(PaymentMethod, 'method')
      .where('method.organization_id = :organizationId', { organizationId });
    const totalCount = await query.getCount();
    if (after) {
      // The list order as one row value: NOT is_default puts the default (false) first.
      query.andWhere(
        '(NOT method.is_default, method.created_at, method.id) > (NOT :afterDefault::boolean, :afterAt::timestamptz, :afterId::uuid)',
        { afterDefault: after.isDefault, afterAt: after.createdAt, afterId: after.id },
      );
    }
    const rows = await query
      .orderBy('method.isDefault', 'DESC')
      .addOrderBy('method.createdAt', 'ASC')
      .addOrderBy('method.id', 'ASC')
      .limit(limit)
      .getMany();
    return { rows, totalCount };
  },

  count(db: EntityManager, organizationId: string): Promise<number> {
    return db.countBy(PaymentMethod, { organizationId });
  },

  byId(db: EntityManager, organizationId: string, id: string): Promise<PaymentMethod | null> {
    return db.findOneBy(PaymentMethod, { id, organizationId });
  },

  defaultOf(db: EntityManager, organizationId: string): Promise<PaymentMethod | null> {
    return db.findOneBy(PaymentMethod, { organizationId, isDefault: true });
  },

  insert(tx: EntityManager, method: NewPaymentMethod): Promise<PaymentMethod> {
    return tx.save(tx.create(PaymentMethod, method));
  },

  /** Makes `id` the organization's one default payment method. */
  async makeDefault(tx: EntityManager, organizationId: string, id: string): Promise<void> {
    await tx.update(PaymentMethod, { organizationId, isDefault: true }, { isDefault: false });
    await tx.update(PaymentMethod, { id }, { isDefault: true });
  },

  async clearDefault(tx: EntityManager, organizationId: string): Promise<void> {
    await tx.update(PaymentMethod, { organizationId, isDefault: true }, { isDefault: false });
  },

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(PaymentMethod, { id });
  },
};
