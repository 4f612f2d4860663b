import type { EntityManager } from 'typeorm';
import { MailOutbox } from '../entities/mail-outbox.entity';

export const mailOutboxRepository = {
  async insert(tx: EntityManager, mail: Pick<MailOutbox, 'kind' | 'recipient' | 'sealedMessage'>): Promise<string> {
    const saved = await tx.save(tx.create(MailOutbox, { ...mail, attempts: 0 }));
    return saved.id;
  },

  byId(db: EntityManager, id: string): Promise<MailOutbox | null> {
    return db.findOneBy(MailOutbox, { id });
  },

  /** Sent: the sealed message (and the token in it) is dropped. */
  async markSent(db: EntityManager, id: string): Promise<void> {
    await db.query(
      `UPDATE platform.mail_outbox SET sent_at = now(), sealed_message = NULL, attempts = attempts + 1,
              last_error = NULL, updated_at = now() WHERE id = $1`,
      [id],
    );
  },

  async markFailed(db: EntityManager, id: string, error: string): Promise<void> {
    await db.query(
      'UPDATE platform.mail_outbox SET attempts = attempts + 1, last_error = $2, updated_at = now() WHERE id = $1',
      [id, error.slice(0, 1000)],
    );
  },

  /** Removes mails sent more than `keepDays` before `asOf` (their message is gone already); how many. */
  async deleteSent(db: EntityManager, asOf: Date, keepDays: number): Promise<number> {
    const [rows] = await db.query<[unknown[], number]>(
      `DELETE FROM platform.mail_outbox WHERE sent_at < $1::timestamptz - make_interval(days => $2) RETURNING id`,
      [asOf, keepDays],
    );
    return rows.length;
  },
};
