import { registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';
import { sqlIn } from './sql-enum';
import { Subscription } from './subscription.entity';

export enum InvoiceStatus {
  DRAFT = 'draft',
  OPEN = 'open',
  PAID = 'paid',
  VOID = 'void',
  UNCOLLECTIBLE = 'uncollectible',
}
registerEnumType(InvoiceStatus, { name: 'InvoiceStatus' });

/**
 * Amounts are integer minor units of `currency`; `number` is sequential per organization.
 * One invoice per subscription period: the period's draft collects its charges and is issued when the period closes.
 */
@Entity({ name: 'invoices' })
@Unique(['organizationId', 'number'])
@Unique(['subscriptionId', 'periodStart'])
@Check('CHK_invoices_status', sqlIn('status', InvoiceStatus))
@Check('CHK_invoices_currency', `currency ~ '^[A-Z]{3}$'`)
@Check('CHK_invoices_number', 'number > 0')
@Check('CHK_invoices_amounts', 'tax_cents >= 0 AND total_cents = subtotal_cents + tax_cents')
@Check('CHK_invoices_period', 'period_end >= period_start')
@Check('CHK_invoices_issued_at', `(status = 'draft') = (issued_at IS NULL)`)
@Check('CHK_invoices_payment_retries', 'payment_retries >= 0')
@Check('CHK_invoices_paid_at', `(status = 'paid') = (paid_at IS NOT NULL)`)
export class Invoice extends BaseEntity {
  /** Null once its organization was purged: billing records outlive the organization. */
  @Column({ type: 'uuid', nullable: true })
  organizationId: string | null;

  @ManyToOne(() => Organization, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Index()
  @Column({ type: 'uuid', nullable: true })
  subscriptionId: string | null;

  @ManyToOne(() => Subscription, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'subscription_id' })
  subscription?: Subscription | null;

  @Column({ type: 'integer' })
  number: number;

  @Column({ type: 'varchar', length: 16 })
  status: InvoiceStatus;

  @Column({ type: 'char', length: 3 })
  currency: string;

  @Column({ type: 'integer' })
  subtotalCents: number;

  @Column({ type: 'integer', default: 0 })
  taxCents: number;

  @Column({ type: 'integer' })
  totalCents: number;

  @Column({ type: 'timestamptz' })
  periodStart: Date;

  @Column({ type: 'timestamptz' })
  periodEnd: Date;

  @Column({ type: 'timestamptz', nullable: true })
  issuedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  paidAt: Date | null;

  /** Declined charges retried so far (PAYMENT_RETRY_DAYS), after the one at issue. */
  @Column({ type: 'integer', default: 0 })
  paymentRetries: number;
}
