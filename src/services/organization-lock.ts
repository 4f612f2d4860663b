import type { EntityManager } from 'typeorm';
import type { Project } from '../entities/project.entity';
import { NotFoundError, OrganizationSuspendedError } from '../errors';
import { lockOrganizationStanding } from '../repositories/organization.repository';
import { projectRepository } from '../repositories/project.repository';

export interface LockOptions {
  /** The change settles what a suspended organization owes (a card, a payment): allowed while suspended. */
  settles?: boolean;
  /**
   * The change only withdraws access (revokes a key or a grant, removes a member, rotates a secret):
   * allowed while suspended, so that a leak can be answered whatever the organization owes.
   */
  withdraws?: boolean;
  /** The change is the undeletion of a deleted organization or project. */
  deleted?: boolean;
}

/**
 * Takes the organization's lock, first in the transaction; `gone()` (NOT_FOUND) when the
 * organization is gone or deleted meanwhile: a deleted one takes no more changes. A suspended one
 * takes none either (ORGANIZATION_SUSPENDED), but what settles its debt or withdraws access.
 */
export async function lockLiveOrganization(
  tx: EntityManager,
  organizationId: string,
  gone: () => Error = () => new NotFoundError('Organization'),
  options: LockOptions = {},
): Promise<void> {
  const standing = await lockOrganizationStanding(tx, organizationId, { deleted: options.deleted });
  if (!standing) throw gone();
  if (standing.suspensionReason !== null && !options.settles && !options.withdraws) {
    throw new OrganizationSuspendedError(standing.suspensionReason);
  }
}

/** The organization's lock, then NOT_FOUND unless the project is still there and not deleted. */
export async function lockLiveProject(
  tx: EntityManager,
  project: Pick<Project, 'id' | 'ref' | 'organizationId'>,
  options: LockOptions = {},
) {
  const gone = () => new NotFoundError('Project', project.ref);
  await lockLiveOrganization(tx, project.organizationId, gone, options);
  if (!(await projectRepository.isLive(tx, project.id))) throw gone();
}
