import type { MailConfig } from '../config';

/** What a mail is for: in the outbox and the log, never its content. */
export type MailKind = 'verify_email' | 'reset_password' | 'invitation';

export interface MailMessage {
  kind: MailKind;
  to: string;
  subject: string;
  /** The plain-text part: it holds the link exactly as `{STUDIO_URL}/<page>?token=…`. */
  text: string;
  html: string;
}

function link(config: MailConfig, page: string, token: string): string {
  return `${config.studioUrl}/${page}?token=${encodeURIComponent(token)}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function compose(kind: MailKind, to: string, subject: string, lines: string[], url: string): MailMessage {
  const text = [...lines, '', url, ''].join('\n');
  const html = `${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('')}<p><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></p>`;
  return { kind, to, subject, text, html };
}

export function verificationMail(config: MailConfig, to: string, token: string, ttlHours: number): MailMessage {
  return compose(
    'verify_email',
    to,
    'Verify your e-mail address',
    [`Open this link within ${ttlHours} hours to verify ${to}.`, 'If you did not sign up, ignore this mail.'],
    link(config, 'verify-email', token),
  );
}

export function passwordResetMail(config: MailConfig, to: string, token: string): MailMessage {
  return compose(
    'reset_password',
    to,
    'Reset your password',
    [
      `Open this link within ${config.passwordResetTtlMinutes} minutes to choose a new password.`,
      'It can be used once. If you did not ask for it, ignore this mail: your password stays as it is.',
    ],
    link(config, 'reset-password', token),
  );
}

export function invitationMail(
  config: MailConfig,
  to: string,
  token: string,
  invitation: { organizationName: string; inviterEmail: string; role: string; ttlDays: number },
): MailMessage {
  return compose(
    'invitation',
    to,
    `You are invited to join ${invitation.organizationName}`,
    [
      `${invitation.inviterEmail} invites you to join ${invitation.organizationName} as ${invitation.role}.`,
      `Open this link within ${invitation.ttlDays} days to accept.`,
    ],
    link(config, 'accept-invitation', token),
  );
}
