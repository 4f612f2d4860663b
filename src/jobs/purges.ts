import { SYSTEM_ACTIONS } from '../audit/actions';
import { recordSystemAudit } from '../services/audit.service';
import { runTransaction } from '../database/transaction';
import { ProjectStatus } from '../entities/project.entity';
import { accessKeyRepository } from '../repositories/access-key.repository';
import { lockOrganization, organizationRepository } from '../repositories/organization.repository';
import { projectRepository } from '../repositories/project.repository';
import type { OrganizationPurgeJob } from '../request/jobs';
import type { RunningJob } from './job-queue';
import type { StepDeps } from './project-steps';

/**
 * Purges a deleted organization: each of its projects is removed by the provisioner (with a key
 * per project and deletion, so retries repeat nothing), then the organization goes, and with it
 * everything but its invoices, which outlive it without its id.
 */
export async function purgeOrganization(deps: StepDeps, job: RunningJob<OrganizationPurgeJob>): Promise<void> {
  const { organizationId } = job.data;
  const organization = await organizationRepository.deletedById(deps.db.manager, organizationId);
  if (!organization?.deletedAt) return;
  const deletedAt = organization.deletedAt.toISOString();
  for (const project of await projectRepository.ofOrganization(deps.db.manager, organizationId)) {
    if (project.status === ProjectStatus.REMOVED) continue;
    await deps.provisioner.run(
      'remove',
      { ref: project.ref, organizationSlug: organization.slug, region: project.region, name: project.name },
      `${project.id}:remove:${deletedAt}`,
    );
  }
  await runTransaction(deps.db, async (tx) => {
    if (!(await lockOrganization(tx, organizationId, { deleted: true }))) return;
    await recordSystemAudit(tx, {
      action: SYSTEM_ACTIONS.organizationPurge,
      organizationId,
      target: { type: 'organization', id: organizationId, label: organization.slug },
    });
    await organizationRepository.purgeIfDeleted(tx, organizationId);
    // Its service accounts and their keys went with it: every replica forgets them.
    await accessKeyRepository.invalidate(tx, `organization:${organizationId}`);
  });
}
