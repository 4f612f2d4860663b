import type { EntityManager } from 'typeorm';
import type { MailConfig } from '../config';
import { seal } from '../crypto/secret-box';
import type { MailMessage } from '../mail/messages';
import { mailOutboxRepository } from '../repositories/mail-outbox.repository';
import { JOB, type JobEnqueuer } from '../request/jobs';

/** What the outbox seals: the message as the sender needs it. */
export interface SealedContent {
  subject: string;
  text: string;
  html: string;
}

/**
 * Writes `message` to the outbox in `tx`, sealed (it holds a token), and enqueues its sending in
 * the same transaction: a change that rolls back sends nothing, one that commits is sent.
 */
export async function queueMail(
  tx: EntityManager,
  jobs: JobEnqueuer,
  mail: MailConfig,
  message: MailMessage,
  requestId?: string,
): Promise<void> {
  if (!mail.sealingKey) throw new Error('The mail outbox needs ENCRYPTION_KEY (config.jobs.mail.sealingKey)');
  const content: SealedContent = { subject: message.subject, text: message.text, html: message.html };
  const outboxId = await mailOutboxRepository.insert(tx, {
    kind: message.kind,
    recipient: message.to,
    sealedMessage: seal(mail.sealingKey, JSON.stringify(content)),
  });
  await jobs.enqueue(tx, JOB.sendMail, { outboxId, requestId });
}
