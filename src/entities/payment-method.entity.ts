import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Organization } from './organization.entity';

/**
 * A card held by the payment provider: only its reference and display details are kept,
 * never a card number or CVC.
 */
@Entity({ name: 'payment_methods' })
@Unique(['provider', 'providerRef'])
@Index('UQ_payment_methods_default_per_organization', ['organizationId'], { unique: true, where: 'is_default' })
@Check('CHK_payment_methods_last4', `last4 ~ '^[0-9]{4}$'`)
@Check('CHK_payment_methods_exp_month', 'exp_month BETWEEN 1 AND 12')
@Check('CHK_payment_methods_exp_year', 'exp_year BETWEEN 2000 AND 2200')
export class PaymentMethod extends BaseEntity {
  @Index()
  @Column({ type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Column({ type: 'varchar', length: 32 })
  provider: string;

  @Column({ type: 'varchar', length: 255 })
  providerRef: string;

  @Column({ type: 'varchar', length: 32 })
  brand: string;

  @Column({ type: 'char', length: 4 })
  last4: string;

  @Column({ type: 'smallint' })
  expMonth: number;

  @Column({ type: 'smallint' })
  expYear: number;

  @Column({ type: 'boolean', default: false })
  isDefault: boolean;
}
