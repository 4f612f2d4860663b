import type { EntityManager } from 'typeorm';
import { Plan } from '../entities/plan.entity';

/** The plan catalog: written by the migrations and by the operator's `npm run platform:plans`. */
export const planRepository = {
  /** Cheapest first. */
  all(db: EntityManager): Promise<Plan[]> {
    return db.find(Plan, { order: { priceCents: 'ASC', code: 'ASC' } });
  },

  byCode(db: EntityManager, code: string): Promise<Plan | null> {
    return db.findOneBy(Plan, { code });
  },

  byId(db: EntityManager, id: string): Promise<Plan | null> {
    return db.findOneBy(Plan, { id });
  },

  /** Changes a plan's limit and price; false when there is no such plan. */
  async update(db: EntityManager, code: string, changes: Partial<Pick<Plan, 'maxProjects' | 'priceCents'>>) {
    const result = await db.update(Plan, { code }, changes);
    return (result.affected ?? 0) > 0;
  },
};
