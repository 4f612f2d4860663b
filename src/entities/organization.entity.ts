import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';

export interface BillingAddress {
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  region?: string;
  country: string;
}

export enum OrganizationStatus {
  ACTIVE = 'ACTIVE',
  /** Readable by its members; every change but settling what it owes is refused. */
  SUSPENDED = 'SUSPENDED',
}
registerEnumType(OrganizationStatus, { name: 'OrganizationStatus' });

/** Who suspended it: a platform admin, or the past-due job (whose suspension settling the debt lifts). */
export enum SuspensionKind {
  ADMIN = 'admin',
  PAST_DUE = 'past_due',
}

export const SLUG_PATTERN = '^[a-z0-9]+(-[a-z0-9]+)*$';

// Plain fields read the property directly: no type-graphql wrapper per field on the hot read path.
@ObjectType({ simpleResolvers: true })
@Entity({ name: 'organizations' })
@Unique(['slug'])
@Check('CHK_organizations_last_invoice_number', 'last_invoice_number >= 0')
@Check(
  'CHK_organizations_suspension',
  `(suspended_at IS NULL) = (suspension_reason IS NULL) AND (suspended_at IS NULL) = (suspension_kind IS NULL) AND (suspension_kind IS NULL OR suspension_kind IN ('admin', 'past_due'))`,
)
@Check('CHK_organizations_slug_format', `slug ~ '${SLUG_PATTERN}' AND char_length(slug) BETWEEN 2 AND 48`)
export class Organization extends BaseEntity {
  @Field()
  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Field()
  @Column({ type: 'varchar', length: 48 })
  slug: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 320, nullable: true })
  billingEmail: string | null;

  /** The payment provider's customer reference. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  paymentCustomerRef: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  taxId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  billingAddress: BillingAddress | null;

  @Field(() => Date, { nullable: true, description: 'When it was deleted: it is purged DELETION_GRACE_DAYS later.' })
  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When a platform admin or an unpaid invoice suspended it.' })
  @Column({ type: 'timestamptz', nullable: true })
  suspendedAt: Date | null;

  @Field(() => String, { nullable: true, description: "Why it is suspended: `past_due`, or the operator's words." })
  @Column({ type: 'varchar', length: 200, nullable: true })
  suspensionReason: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  suspensionKind: SuspensionKind | null;

  @Field(() => Date, { nullable: true, description: "Until then, the pro plan's limits without a card (TRIAL_DAYS)." })
  @Column({ type: 'timestamptz', nullable: true })
  trialEndsAt: Date | null;

  @Field(() => OrganizationStatus)
  get status(): OrganizationStatus {
    return this.suspendedAt ? OrganizationStatus.SUSPENDED : OrganizationStatus.ACTIVE;
  }

  /** Last invoice number issued; incremented under a row lock so numbers have no gaps. */
  @Column({ type: 'integer', default: 0 })
  lastInvoiceNumber: number;
}
