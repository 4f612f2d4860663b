import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { MailConfig } from '../config';
import { open } from '../crypto/secret-box';
import { runTransaction } from '../database/transaction';
import type { MailSender } from '../mail/mail-sender';
import { mailOutboxRepository } from '../repositories/mail-outbox.repository';
import { JOB, type JobEnqueuer, type PasswordResetMailJob, type SendMailJob } from '../request/jobs';
import { queuePasswordReset } from '../services/account.service';
import type { SealedContent } from '../services/mail-outbox';
import type { RunningJob } from './job-queue';

export interface MailDeps {
  db: DataSource;
  queue: JobEnqueuer;
  mail: MailConfig;
  sender: MailSender;
  log: Logger;
}

/**
 * Sends one mail of the outbox. A failure is recorded on the row and thrown, so that pg-boss
 * tries again later (with backoff); once sent, the sealed message is dropped. A mail already
 * sent (a retry after the send but before the job's end) is not sent twice.
 */
export async function sendQueuedMail(deps: MailDeps, job: RunningJob<SendMailJob>): Promise<void> {
  const mail = await mailOutboxRepository.byId(deps.db.manager, job.data.outboxId);
  if (!mail || mail.sentAt || !mail.sealedMessage) return;
  if (!deps.mail.sealingKey) throw new Error('The mail worker needs ENCRYPTION_KEY to open the outbox');
  const content = JSON.parse(open(deps.mail.sealingKey, mail.sealedMessage)) as SealedContent;
  try {
    await deps.sender.send({ id: mail.id, to: mail.recipient, ...content });
  } catch (error) {
    await mailOutboxRepository.markFailed(deps.db.manager, mail.id, (error as Error).message);
    throw error;
  }
  await mailOutboxRepository.markSent(deps.db.manager, mail.id);
  deps.log.info({ outboxId: mail.id, kind: mail.kind, attempt: job.attempt }, 'mail sent');
}

/** Makes the reset token and its mail when the address is a user's; the request answered the same either way. */
export async function sendPasswordResetMail(deps: MailDeps, job: RunningJob<PasswordResetMailJob>): Promise<void> {
  const work = { jobs: deps.queue, mail: deps.mail, requestId: job.data.requestId };
  const queued = await runTransaction(deps.db, (tx) => queuePasswordReset(work, tx, job.data.email));
  if (queued) deps.queue.nudge(JOB.sendMail);
}
