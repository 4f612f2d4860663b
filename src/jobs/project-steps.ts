import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { runTransaction } from '../database/transaction';
import { ProjectStatus } from '../entities/project.entity';
import { projectRepository } from '../repositories/project.repository';
import type { ProjectStepJob } from '../request/jobs';
import type { RunningJob } from './job-queue';
import type { ProvisionStep, Provisioner } from './provisioner';

/** Where each step starts, where it ends, and where it is left when the provisioner gives up. */
export const STEPS: Record<ProvisionStep, { from: ProjectStatus; done: ProjectStatus; failed: ProjectStatus | null }> =
  {
    init: { from: ProjectStatus.COMING_UP, done: ProjectStatus.ACTIVE_HEALTHY, failed: ProjectStatus.INIT_FAILED },
    pause: { from: ProjectStatus.PAUSING, done: ProjectStatus.PAUSED, failed: ProjectStatus.PAUSE_FAILED },
    restore: {
      from: ProjectStatus.RESTORING,
      done: ProjectStatus.ACTIVE_HEALTHY,
      failed: ProjectStatus.RESTORE_FAILED,
    },
    // A removal that gives up stays GOING_DOWN: the next purge run tries it again.
    remove: { from: ProjectStatus.GOING_DOWN, done: ProjectStatus.REMOVED, failed: null },
  };

export interface StepDeps {
  db: DataSource;
  provisioner: Provisioner;
  log: Logger;
}

/**
 * Runs one lifecycle step: the provisioner, then the move to the step's end state (a removal
 * deletes the row). A project that has meanwhile left the step's start state is left alone, so a
 * step enqueued twice acts once. The idempotency key names the project, the step and the moment
 * the project entered the step's start state: the same on every attempt, and on every job the
 * sweep enqueues again for that transition; a later transition into the same state has a new one.
 */
export async function runProjectStep(deps: StepDeps, job: RunningJob<ProjectStepJob>): Promise<void> {
  const { projectId, step } = job.data;
  const { from, done, failed } = STEPS[step];
  const found = await projectRepository.forProvisioning(deps.db.manager, projectId);
  if (!found || found.project.status !== from) return;
  const { project, organizationSlug, statusChangedAt } = found;
  try {
    await deps.provisioner.run(
      step,
      { ref: project.ref, organizationSlug, region: project.region, name: project.name },
      `${project.id}:${step}:${statusChangedAt.getTime()}`,
    );
  } catch (error) {
    if (job.lastAttempt && failed) {
      await runTransaction(deps.db, (tx) => projectRepository.transition(tx, project.id, from, failed));
      deps.log.warn({ projectId, step, status: failed }, 'project step failed for good');
    }
    throw error;
  }
  await runTransaction(deps.db, async (tx) => {
    if (step === 'remove') await projectRepository.purge(tx, project.id);
    else await projectRepository.transition(tx, project.id, from, done);
  });
}
