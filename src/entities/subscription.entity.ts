import { registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { Plan } from './plan.entity';
import { sqlIn } from './sql-enum';

export enum SubscriptionStatus {
  TRIALING = 'trialing',
  ACTIVE = 'active',
  PAST_DUE = 'past_due',
  CANCELED = 'canceled',
}
registerEnumType(SubscriptionStatus, { name: 'SubscriptionStatus' });

/** An organization has exactly one current (non-canceled) subscription. */
@Entity({ name: 'subscriptions' })
@Index('UQ_subscriptions_current_per_organization', ['organizationId'], {
  unique: true,
  where: `status <> 'canceled'`,
})
@Index('IDX_subscriptions_current_period_end', ['currentPeriodEnd'], { where: `status <> 'canceled'` })
@Check('CHK_subscriptions_status', sqlIn('status', SubscriptionStatus))
@Check('CHK_subscriptions_period', 'current_period_end > current_period_start')
@Check('CHK_subscriptions_complimentary', '(complimentary_until IS NULL) = (plan_after_complimentary_id IS NULL)')
@Check('CHK_subscriptions_canceled_at', `(status = 'canceled') = (canceled_at IS NOT NULL)`)
export class Subscription extends BaseEntity {
  @Index()
  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Index()
  @Column({ type: 'uuid' })
  planId: string;

  @ManyToOne(() => Plan, { onDelete: 'RESTRICT', nullable: false })
  @JoinColumn({ name: 'plan_id' })
  plan?: Plan;

  @Column({ type: 'varchar', length: 16 })
  status: SubscriptionStatus;

  @Column({ type: 'timestamptz' })
  currentPeriodStart: Date;

  @Column({ type: 'timestamptz' })
  currentPeriodEnd: Date;

  @Column({ type: 'boolean', default: false })
  cancelAtPeriodEnd: boolean;

  @Column({ type: 'timestamptz', nullable: true })
  canceledAt: Date | null;

  /** A complimentary plan (setOrganizationPlan): not charged, until then; then planAfterComplimentaryId. */
  @Column({ type: 'timestamptz', nullable: true })
  complimentaryUntil: Date | null;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  planAfterComplimentaryId: string | null;

  @ManyToOne(() => Plan, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'plan_after_complimentary_id' })
  planAfterComplimentary?: Plan | null;
}
