import { In, Not, type EntityManager } from 'typeorm';
import type { Plan } from '../entities/plan.entity';
import { Subscription, SubscriptionStatus } from '../entities/subscription.entity';

export type CurrentSubscription = Subscription & { plan: Plan };

export type NewSubscription = Pick<
  Subscription,
  'organizationId' | 'planId' | 'status' | 'currentPeriodStart' | 'currentPeriodEnd'
>;

export type SubscriptionChanges = Partial<
  Pick<
    Subscription,
    | 'planId'
    | 'status'
    | 'currentPeriodStart'
    | 'currentPeriodEnd'
    | 'cancelAtPeriodEnd'
    | 'canceledAt'
    | 'complimentaryUntil'
    | 'planAfterComplimentaryId'
  >
>;

/** Subscriptions: an organization has one current (non-canceled) one, and its canceled past. */
export const subscriptionRepository = {
  /** The current subscription with its plan; null when the organization has none (it is gone). */
  async current(db: EntityManager, organizationId: string): Promise<CurrentSubscription | null> {
    const subscription = await db.findOne(Subscription, {
      where: { organizationId, status: Not(SubscriptionStatus.CANCELED) },
      relations: { plan: true },
    });
    return subscription?.plan ? (subscription as CurrentSubscription) : null;
  },

  /** Organizations whose current period ended by `now`, the longest ended first. */
  async endedBy(db: EntityManager, now: Date, organizationId?: string): Promise<string[]> {
    const query = db
      .createQueryBuilder(Subscription, 'subscription')
      .select('subscription.organization_id', 'organizationId')
      .where('subscription.status <> :canceled', { canceled: SubscriptionStatus.CANCELED })
      .andWhere('subscription.current_period_end <= :now', { now })
      .orderBy('subscription.current_period_end', 'ASC')
      .addOrderBy('subscription.organization_id', 'ASC');
    if (organizationId) query.andWhere('subscription.organization_id = :organizationId', { organizationId });
    const rows = await query.getRawMany<{ organizationId: string }>();
    return rows.map((row) => row.organizationId);
  },

  async insert(tx: EntityManager, subscription: NewSubscription): Promise<void> {
    await tx.insert(Subscription, { ...subscription, cancelAtPeriodEnd: false, canceledAt: null });
  },

  async update(tx: EntityManager, id: string, changes: SubscriptionChanges): Promise<void> {
    await tx.update(Subscription, { id }, changes);
  },

  /** Organizations whose complimentary plan ended by `asOf`. */
  async complimentaryEndedBy(db: EntityManager, asOf: Date): Promise<string[]> {
    const rows = await db.query<{ organization_id: string }[]>(
      `SELECT organization_id FROM platform.subscriptions WHERE status <> 'canceled' AND complimentary_until <= $1`,
      [asOf],
    );
    return rows.map((row) => row.organization_id);
  },

  /** Moves the organization's active or past-due subscription to past due (`owing`) or back to active. */
  async setStanding(tx: EntityManager, organizationId: string, owing: boolean): Promise<void> {
    await tx.update(
      Subscription,
      { organizationId, status: In([SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE]) },
      { status: owing ? SubscriptionStatus.PAST_DUE : SubscriptionStatus.ACTIVE },
    );
  },
};
