import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { diff, SYSTEM_ACTIONS, type AuditAction } from '../audit/actions';
import type { Project } from '../entities/project.entity';
import { recordSystemAudit } from '../services/audit.service';
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
      await runTransaction(deps.db, (tx) => moveRecorded(tx, project, from, failed));
      deps.log.warn({ projectId, step, status: failed }, 'project step failed for good');
    }
    throw error;
  }
  await runTransaction(deps.db, async (tx) => {
    if (step === 'remove') {
      await recordSystemAudit(tx, projectSystemEvent(SYSTEM_ACTIONS.projectPurge, project, from, done));
      await projectRepository.purge(tx, project.id);
    } else await moveRecorded(tx, project, from, done);
  });
}

/** The system moves a project's status, and records it when it moved. */
async function moveRecorded(tx: EntityManager, project: Project, from: ProjectStatus, to: ProjectStatus) {
  const moved = await projectRepository.transition(tx, project.id, from, to);
  if (moved) await recordSystemAudit(tx, projectSystemEvent(SYSTEM_ACTIONS.projectStatusChange, project, from, to));
}

function projectSystemEvent(action: AuditAction, project: Project, from: ProjectStatus, to: ProjectStatus) {
  return {
    action,
    organizationId: project.organizationId,
    target: { type: 'project', id: project.id, label: project.name },
    projectRef: project.ref,
    changes: diff({ status: from }, { status: to }),
  };
}
