import { Project } from '../entities/project.entity';
import { hydrate } from './hydrate';

/** A Project from a raw `projects` row (snake_case columns), for the lean read and write paths. */
export function projectFromRow(row: Record<string, unknown>): Project {
  return hydrate(Project, {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    name: row.name,
    ref: row.ref,
    organizationId: row.organization_id,
    region: row.region,
    status: row.status,
  });
}
