import { Check, Column, Entity } from 'typeorm';
import { BaseEntity } from './base.entity';

/**
 * A mail to send, written in the transaction of the change that causes it and sent by a job.
 * The message carries a token, so it is kept sealed (AES-256-GCM) and dropped once sent.
 */
@Entity({ name: 'mail_outbox' })
@Check('CHK_mail_outbox_sent_dropped', 'sent_at IS NULL OR sealed_message IS NULL')
export class MailOutbox extends BaseEntity {
  /** verify_email, reset_password, invitation: for the log and the operator, never the content. */
  @Column({ type: 'varchar', length: 32 })
  kind: string;

  @Column({ type: 'varchar', length: 320 })
  recipient: string;

  @Column({ type: 'text', nullable: true })
  sealedMessage: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  /** The last failure's message (from the mail server), for the operator. */
  @Column({ type: 'text', nullable: true })
  lastError: string | null;
}
