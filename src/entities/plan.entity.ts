import { Check, Column, Entity, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';

/** The plan catalog. Prices are integer minor units of `currency`. */
@Entity({ name: 'plans' })
@Unique(['code'])
@Check('CHK_plans_price_cents', 'price_cents >= 0')
@Check('CHK_plans_currency', `currency ~ '^[A-Z]{3}$'`)
@Check('CHK_plans_max_projects', 'max_projects IS NULL OR max_projects >= 0')
export class Plan extends BaseEntity {
  @Column({ type: 'varchar', length: 32 })
  code: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'integer' })
  priceCents: number;

  @Column({ type: 'char', length: 3 })
  currency: string;

  /** Active projects allowed; null means unlimited. */
  @Column({ type: 'integer', nullable: true })
  maxProjects: number | null;
}
