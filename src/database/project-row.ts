import { Project, type ProjectStatus } from '../entities/project.entity';

/**
 * A Project from a raw `projects` row (snake_case columns), for the lean read and write paths.
 * Built property by property on the prototype: a dashboard builds hundreds of these per request,
 * and this keeps them all one hidden class (no constructor run, no intermediate objects).
 */
export function projectFromRow(
  row: Record<string, unknown>,
  createdAt = row.created_at,
  updatedAt = row.updated_at,
): Project {
  const project = Object.create(Project.prototype) as Project;
  project.id = row.id as string;
  project.createdAt = createdAt as Date;
  project.updatedAt = updatedAt as Date;
  project.name = row.name as string;
  project.ref = row.ref as string;
  project.organizationId = row.organization_id as string;
  project.region = row.region as string;
  project.status = row.status as ProjectStatus;
  return project;
}
