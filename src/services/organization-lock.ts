import type { EntityManager } from 'typeorm';
import { NotFoundError } from '../errors';
import { lockOrganization } from '../repositories/organization.repository';

/** Takes the organization's lock, first in the transaction; NOT_FOUND when it is gone or deleted meanwhile. */
export async function lockLiveOrganization(tx: EntityManager, organizationId: string): Promise<void> {
  if (!(await lockOrganization(tx, organizationId))) throw new NotFoundError('Organization');
}
