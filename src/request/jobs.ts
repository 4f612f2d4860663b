import type { EntityManager } from 'typeorm';

/** The steps of a project's lifecycle that the provisioner carries out. */
export type ProvisionStep = 'init' | 'pause' | 'restore' | 'remove';

/** The kinds of background work, each a pg-boss queue. */
export const JOB = {
  /** One step of a project's lifecycle, through the provisioner. */
  projectStep: 'project-step',
  /** Removes a deleted organization's projects, then the organization. */
  organizationPurge: 'organization-purge',
  /** Scheduled: re-enqueues lifecycle steps left without a live job. */
  sweep: 'sweep-stuck-projects',
  /** Scheduled: purges what was deleted more than the grace period ago. */
  purgeDue: 'purge-deleted',
  /** Scheduled: closes the billing periods that ended. */
  closePeriods: 'close-billing-periods',
  /** Scheduled: removes invitations past their expiry. */
  expireInvitations: 'expire-invitations',
  /** Scheduled: retries declined charges, suspends past-due organizations, ends complimentary plans. */
  collectPayments: 'collect-payments',
  /** Sends one mail of the outbox (platform.mail_outbox), retried while the mail server refuses it. */
  sendMail: 'send-mail',
  /** Makes a password reset token for an address, if it is a user's, and writes its mail to the outbox. */
  passwordResetMail: 'password-reset-mail',
  /** Scheduled: removes audit events past AUDIT_RETENTION_DAYS, keeping each chain's checkpoint. */
  auditRetention: 'audit-retention',
  /** One attempt at a webhook delivery; a failed one enqueues the next, later. */
  webhookDelivery: 'webhook-delivery',
} as const;

export type JobName = (typeof JOB)[keyof typeof JOB];

/** Who asked for the work: the request that enqueued it, for the log. */
interface Enqueued {
  requestId?: string;
}

export interface ProjectStepJob extends Enqueued {
  projectId: string;
  step: ProvisionStep;
}

export interface OrganizationPurgeJob extends Enqueued {
  organizationId: string;
}

/** A scheduled job runs as of a time: its own start, or the time an operator or a test gives. */
export interface ScheduledJob extends Enqueued {
  asOf?: string;
}

/** Only the outbox row's id: the message, which holds a token, stays sealed in the database. */
export interface SendMailJob extends Enqueued {
  outboxId: string;
}

/** The address a reset was asked for: whether it is a user's is decided by the job, out of the request's time. */
export interface PasswordResetMailJob extends Enqueued {
  email: string;
}

export interface JobPayloads {
  [JOB.projectStep]: ProjectStepJob;
  [JOB.organizationPurge]: OrganizationPurgeJob;
  [JOB.sweep]: ScheduledJob;
  [JOB.purgeDue]: ScheduledJob;
  [JOB.closePeriods]: ScheduledJob;
  [JOB.expireInvitations]: ScheduledJob;
  [JOB.collectPayments]: ScheduledJob;
  [JOB.sendMail]: SendMailJob;
  [JOB.passwordResetMail]: PasswordResetMailJob;
  [JOB.auditRetention]: ScheduledJob;
  [JOB.webhookDelivery]: WebhookDeliveryJob;
}

export interface WebhookDeliveryJob extends Enqueued {
  deliveryId: string;
}

/** The step that moves a project out of each transitional status. */
export const STEP_OUT_OF: Readonly<Record<string, ProvisionStep>> = {
  COMING_UP: 'init',
  PAUSING: 'pause',
  RESTORING: 'restore',
  GOING_DOWN: 'remove',
};

export interface EnqueueOptions {
  /** At most one job of this key runs at a time (a project's id, say). */
  singletonKey?: string;
  /** Not before this time (a retry's backoff). */
  startAfter?: Date;
}

/** What a request may enqueue: in its own transaction, so the job exists once, and only if, it commits. */
export interface JobEnqueuer {
  enqueue<K extends keyof JobPayloads>(
    tx: EntityManager,
    name: K,
    data: JobPayloads[K],
    options?: EnqueueOptions,
  ): Promise<string | null>;
  /** Wakes this process's workers of a queue (after the commit that enqueued to it), instead of their next poll. */
  nudge(name: keyof JobPayloads): void;
}

/** The scheduled jobs and when they run (cron, UTC); each runs once per tick across all replicas. */
export const SCHEDULES: readonly { name: keyof JobPayloads; cron: string }[] = [
  { name: JOB.sweep, cron: '* * * * *' },
  { name: JOB.purgeDue, cron: '17 * * * *' },
  { name: JOB.closePeriods, cron: '5 * * * *' },
  { name: JOB.expireInvitations, cron: '41 * * * *' },
  { name: JOB.collectPayments, cron: '23 * * * *' },
  { name: JOB.auditRetention, cron: '47 3 * * *' },
];
