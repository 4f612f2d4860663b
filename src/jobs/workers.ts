import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import type { JobsConfig } from '../config';
import { JOB } from '../request/jobs';
import { JobQueue, type JobHandlers } from './job-queue';
import { runProjectStep, type StepDeps } from './project-steps';
import { provisionerFor } from './provisioner';
import { sendPasswordResetMail, sendQueuedMail, type MailDeps } from './mail';
import { purgeOrganization } from './purges';
import { mailSender } from '../mail/mail-sender';
import { deliverWebhook } from './webhook-delivery';
import { scheduledHandler, scheduledWork, sweepStuckProjects } from './scheduled';

/** The queue on the database `dataSource` is connected to. */
export function jobQueueFor(dataSource: DataSource, config: JobsConfig, log: Logger, schedule: boolean): JobQueue {
  const { url, connectTimeoutMS } = dataSource.options as PostgresDataSourceOptions;
  if (!url) throw new Error('The job queue needs the database URL the data source is connected to');
  return new JobQueue(url, config, log.child({ component: 'jobs' }), { schedule, connectTimeoutMs: connectTimeoutMS });
}

export function jobHandlers(dataSource: DataSource, queue: JobQueue, config: JobsConfig, log: Logger): JobHandlers {
  const steps: StepDeps = { db: dataSource, provisioner: provisionerFor(config.provisioner), log };
  const scheduled = scheduledWork({ db: dataSource, queue, config });
  const mailLog = log.child({ component: 'mail' });
  const mail: MailDeps = {
    db: dataSource,
    queue,
    mail: config.mail,
    sender: mailSender(config.mail, mailLog),
    log: mailLog,
  };
  return {
    [JOB.projectStep]: (job) => runProjectStep(steps, job),
    [JOB.organizationPurge]: (job) => purgeOrganization(steps, job),
    [JOB.sweep]: scheduledHandler(scheduled[JOB.sweep]),
    [JOB.purgeDue]: scheduledHandler(scheduled[JOB.purgeDue]),
    [JOB.closePeriods]: scheduledHandler(scheduled[JOB.closePeriods]),
    [JOB.expireInvitations]: scheduledHandler(scheduled[JOB.expireInvitations]),
    [JOB.collectPayments]: scheduledHandler(scheduled[JOB.collectPayments]),
    [JOB.sendMail]: (job) => sendQueuedMail(mail, job),
    [JOB.passwordResetMail]: (job) => sendPasswordResetMail(mail, job),
    [JOB.auditRetention]: scheduledHandler(scheduled[JOB.auditRetention]),
    [JOB.webhookDelivery]: (job) => deliverWebhook({ db: dataSource, queue, config, log }, job),
  };
}

/**
 * Starts the queue and, when this process runs workers, its workers and schedules, after one
 * sweep for projects that a crash (or an older release) left in a transitional state.
 */
export async function startJobs(dataSource: DataSource, config: JobsConfig, log: Logger): Promise<JobQueue> {
  const queue = jobQueueFor(dataSource, config, log, config.workers);
  await queue.start();
  if (config.workers) {
    const swept = await sweepStuckProjects({ db: dataSource, queue, config });
    if (swept) log.warn({ projects: swept }, 'projects left in a transitional state were given their step again');
    await queue.work(jobHandlers(dataSource, queue, config, log));
  }
  return queue;
}
