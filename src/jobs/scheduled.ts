import type { DataSource, EntityManager } from 'typeorm';
import type { JobsConfig } from '../config';
import { accountTokenRepository } from '../repositories/account-token.repository';
import { mailOutboxRepository } from '../repositories/mail-outbox.repository';
import { invitationRepository } from '../repositories/membership.repository';
import { sessionRepository } from '../repositories/session.repository';
import { organizationRepository } from '../repositories/organization.repository';
import { projectRepository } from '../repositories/project.repository';
import { closePeriods } from '../services/billing-period.service';
import { collectPastDue } from '../services/billing-collection.service';
import { endComplimentaryPlans } from '../services/billing-complimentary.service';
import { removeExpiredAuditEvents } from '../services/audit-chain.service';
import { JOB, STEP_OUT_OF, type ScheduledJob } from '../request/jobs';
import type { JobQueue, RunningJob } from './job-queue';
import { sweepWebhookDeliveries } from './webhook-delivery';

export interface ScheduledDeps {
  db: DataSource;
  queue: JobQueue;
  config: JobsConfig;
}

const DAY_MS = 24 * 3600 * 1000;

/** Projects in a transitional state without a live job (from before the queue, or a bug): their step again. */
export async function sweepStuckProjects(deps: ScheduledDeps): Promise<number> {
  // A removal waits for the end of the grace period: the purge enqueues it.
  const transitional = Object.keys(STEP_OUT_OF).filter((status) => STEP_OUT_OF[status] !== 'remove');
  const stuck = await projectRepository.stuckInTransition(deps.db.manager, transitional, JOB.projectStep);
  for (const project of stuck) {
    await deps.queue.send(JOB.projectStep, { projectId: project.id, step: STEP_OUT_OF[project.status] }, project.id);
  }
  return stuck.length;
}

/** What was deleted more than the grace period before `asOf` is purged, each by a job of its own. */
export async function purgeDue(deps: ScheduledDeps, asOf: Date): Promise<number> {
  const before = new Date(asOf.getTime() - deps.config.deletionGraceDays * DAY_MS);
  const organizations = await organizationRepository.deletedBefore(deps.db.manager, before);
  for (const organizationId of organizations) {
    await deps.queue.send(JOB.organizationPurge, { organizationId }, organizationId);
  }
  const projects = await projectRepository.deletedBefore(deps.db.manager, before);
  for (const projectId of projects) await deps.queue.send(JOB.projectStep, { projectId, step: 'remove' }, projectId);
  return organizations.length + projects.length;
}

/** Retries, past-due suspensions (their pause steps enqueued with them) and the end of complimentary plans. */
export async function collectPayments(deps: ScheduledDeps, asOf: Date) {
  if (!deps.config.billing.enabled) return null;
  const collected = await collectPastDue(deps.db, deps.queue, deps.config.billing, asOf);
  const complimentaryEnded = await endComplimentaryPlans(deps.db, asOf);
  if (collected.suspended.length) deps.queue.nudge(JOB.projectStep);
  return { ...collected, complimentaryEnded };
}

/** Each scheduled job as a function of the time it runs as of. */
export function scheduledWork(deps: ScheduledDeps): Record<string, (asOf: Date) => Promise<unknown>> {
  return {
    // Webhook deliveries of the system's own events get their jobs here too.
    [JOB.sweep]: async () => (await sweepStuckProjects(deps)) + (await sweepWebhookDeliveries(deps.db, deps.queue)),
    [JOB.purgeDue]: (asOf) => purgeDue(deps, asOf),
    // BILLING_ENABLED=false: no period is closed, nothing is collected.
    [JOB.closePeriods]: (asOf) =>
      deps.config.billing.enabled ? closePeriods(deps.db, { now: asOf }) : Promise.resolve(null),
    [JOB.expireInvitations]: (asOf) => expireInvitationsAndAccountData(deps.db.manager, asOf),
    [JOB.collectPayments]: (asOf) => collectPayments(deps, asOf),
    [JOB.auditRetention]: (asOf) => removeExpiredAuditEvents(deps.db, asOf, deps.config.auditRetentionDays),
  };
}

/** Ended sessions and mails sent are kept this long (for the operator), then removed. */
const ENDED_KEPT_DAYS = 30;

/**
 * The hourly expiry: invitations past their time, and what accounts leave behind (ended sessions
 * and rotated refresh tokens, expired account tokens, mails long sent). How many rows went.
 */
async function expireInvitationsAndAccountData(db: EntityManager, asOf: Date): Promise<number> {
  const counts = [
    await invitationRepository.deleteExpired(db, asOf),
    await sessionRepository.deleteEnded(db, asOf, ENDED_KEPT_DAYS),
    await accountTokenRepository.deleteExpired(db, asOf),
    await mailOutboxRepository.deleteSent(db, asOf, ENDED_KEPT_DAYS),
  ];
  return counts.reduce((sum, count) => sum + count, 0);
}

/** A scheduled job as the queue runs it: as of the time it was given, or now. */
export function scheduledHandler(work: (asOf: Date) => Promise<unknown>) {
  return async (job: RunningJob<ScheduledJob>): Promise<void> => {
    await work(job.data.asOf ? new Date(job.data.asOf) : new Date());
  };
}
