import type { EntityManager } from 'typeorm';
import type { Project } from '../entities/project.entity';
import { NotFoundError } from '../errors';
import { lockOrganization } from '../repositories/organization.repository';
import { projectRepository } from '../repositories/project.repository';

/**
 * Takes the organization's lock, first in the transaction; `gone()` (NOT_FOUND) when the
 * organization is gone or deleted meanwhile: a deleted one takes no more changes.
 */
export async function lockLiveOrganization(
  tx: EntityManager,
  organizationId: string,
  gone: () => Error = () => new NotFoundError('Organization'),
): Promise<void> {
  if (!(await lockOrganization(tx, organizationId))) throw gone();
}

/** The organization's lock, then NOT_FOUND unless the project is still there and not deleted. */
export async function lockLiveProject(tx: EntityManager, project: Pick<Project, 'id' | 'ref' | 'organizationId'>) {
  const gone = () => new NotFoundError('Project', project.ref);
  await lockLiveOrganization(tx, project.organizationId, gone);
  if (!(await projectRepository.isLive(tx, project.id))) throw gone();
}
