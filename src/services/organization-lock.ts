import type { EntityManager } from 'typeorm';
import type { Project } from '../entities/project.entity';
import { NotFoundError, OrganizationSuspendedError } from '../errors';
import { lockOrganizationStanding } from '../repositories/organization.repository';
import { projectRepository } from '../repositories/project.repository';

export interface LockOptions {
  /** The change settles what a suspended organization owes (a card, a payment): allowed while suspended. */
  settles?: boolean;
  /** The change is the undeletion of a deleted organization or project. */
  deleted?: boolean;
}

/**
 * Takes the organization's lock, first in the transaction; `gone()` (NOT_FOUND) when the
 * organization is gone or deleted meanwhile: a deleted one takes no more changes. A suspended one
 * takes none either (ORGANIZATION_SUSPENDED), but what settles its debt.
 */
export async function lockLiveOrganization(
  tx: EntityManager,
  organizationId: string,
  gone: () => Error = () => new NotFoundError('Organization'),
  options: LockOptions = {},
): Promise<void> {
  const standing = await lockOrganizationStanding(tx, organizationId, { deleted: options.deleted });
  if (!standing) throw gone();
  if (standing.suspensionReason !== null && !options.settles) {
    throw new OrganizationSuspendedError(standing.suspensionReason);
  }
}

/** The organization's lock, then NOT_FOUND unless the project is still there and not deleted. */
export async function lockLiveProject(tx: EntityManager, project: Pick<Project, 'id' | 'ref' | 'organizationId'>) {
  const gone = () => new NotFoundError('Project', project.ref);
  await lockLiveOrganization(tx, project.organizationId, gone);
  if (!(await projectRepository.isLive(tx, project.id))) throw gone();
}
