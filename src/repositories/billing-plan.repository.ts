import type { EntityManager } from 'typeorm';
import { Plan } from '../entities/plan.entity';

/** The plan catalog: read only (the migrations write it). */
export const planRepository = {
  /** Cheapest first. */
  all(db: EntityManager): Promise<Plan[]> {
    return db.find(Plan, { order: { priceCents: 'ASC', code: 'ASC' } });
  },

  byCode(db: EntityManager, code: string): Promise<Plan | null> {
    return db.findOneBy(Plan, { code });
  },
};
