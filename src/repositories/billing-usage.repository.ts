import { In, Not, type EntityManager } from 'typeorm';
import { Project, type ProjectStatus } from '../entities/project.entity';

/** What plan limits count, read from other aggregates' tables. */
export const usageRepository = {
  /** The organization's projects, but those in the `uncounted` statuses. */
  countProjects(db: EntityManager, organizationId: string, uncounted: readonly ProjectStatus[]): Promise<number> {
    return db.countBy(Project, { organizationId, status: Not(In([...uncounted])) });
  },
};
