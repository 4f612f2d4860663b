import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { MailConfig } from '../config';

export interface OutgoingMail {
  /** The outbox row's id: the file name of an `.eml`, the Message-ID's left part. */
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends one mail, or throws (the job is retried). */
export interface MailSender {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** How long to wait for the mail server at each step: past it the job fails and is retried later. */
const SMTP_TIMEOUT_MS = 10_000;

/**
 * nodemailer over SMTP_URL; without it (outside production) `.eml` files under DATA_DIR/mail,
 * written by nodemailer's stream transport; with MAIL_DISABLED nothing leaves.
 */
export function mailSender(config: MailConfig, log: Logger): MailSender {
  if (config.disabled) {
    return { send: () => Promise.resolve(), close: () => undefined };
  }
  const messageId = (id: string) => `<${id}@${new URL(config.studioUrl).hostname}>`;
  if (config.smtpUrl) {
    const transport = nodemailer.createTransport(config.smtpUrl, { from: config.from });
    transport.options = {
      ...transport.options,
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS * 3,
    };
    return {
      async send(mail) {
        await transport.sendMail({ ...mail, messageId: messageId(mail.id), from: config.from });
      },
      close: () => transport.close(),
    };
  }
  const files = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      const info = await files.sendMail({ ...mail, messageId: messageId(mail.id), from: config.from });
      await mkdir(config.directory, { recursive: true, mode: 0o700 });
      const file = path.join(config.directory, `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.id}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      log.info({ file }, 'mail written as a file (SMTP_URL is not set)');
    },
    close: () => files.close(),
  };
}
