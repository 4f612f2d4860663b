import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Invoice } from './invoice.entity';

@Entity({ name: 'invoice_line_items' })
@Check('CHK_invoice_line_items_quantity', 'quantity > 0')
@Check('CHK_invoice_line_items_amount', 'amount_cents = unit_amount_cents * quantity')
export class InvoiceLineItem extends BaseEntity {
  @Index()
  @Column({ type: 'uuid' })
  invoiceId: string;

  @ManyToOne(() => Invoice, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'invoice_id' })
  invoice?: Invoice;

  @Column({ type: 'varchar', length: 255 })
  description: string;

  @Column({ type: 'integer', default: 1 })
  quantity: number;

  /** May be negative: a proration credit. */
  @Column({ type: 'integer' })
  unitAmountCents: number;

  @Column({ type: 'integer' })
  amountCents: number;

  @Column({ type: 'timestamptz', nullable: true })
  periodStart: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  periodEnd: Date | null;
}
