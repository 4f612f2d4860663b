import { Project, type ProjectStatus } from '../entities/project.entity';

/**
 * A Project from its column values, for the lean read and write paths. Built property by
 * property on the prototype: a dashboard builds hundreds of these per request, and this keeps
 * them all one hidden class (no constructor run, no intermediate objects).
 */
export function buildProject(
  id: string,
  createdAt: Date,
  updatedAt: Date,
  name: string,
  ref: string,
  organizationId: string,
  region: string,
  status: ProjectStatus,
): Project {
  const project = Object.create(Project.prototype) as Project;
  project.id = id;
  project.createdAt = createdAt;
  project.updatedAt = updatedAt;
  project.name = name;
  project.ref = ref;
  project.organizationId = organizationId;
  project.region = region;
  project.status = status;
  return project;
}

/** A Project from a raw `projects` row (snake_case columns). */
export function projectFromRow(row: Record<string, unknown>): Project {
  return buildProject(
    row.id as string,
    row.created_at as Date,
    row.updated_at as Date,
    row.name as string,
    row.ref as string,
    row.organization_id as string,
    row.region as string,
    row.status as ProjectStatus,
  );
}
