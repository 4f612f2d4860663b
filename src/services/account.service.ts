import { hashToken, newOpaqueToken } from '../crypto/opaque-tokens';
import type { EntityManager } from 'typeorm';
import { hashPassword, verifyPassword } from '../auth/passwords';
import type { MailConfig } from '../config';
import { AccountTokenPurpose } from '../entities/account-token.entity';
import type { User } from '../entities/user.entity';
import { AUDIT_ACTIONS, SYSTEM_ACTIONS, diff } from '../audit/actions';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../errors';
import type { ChangePasswordInput, ResetPasswordInput } from '../inputs/auth.inputs';
import { passwordResetMail, verificationMail } from '../mail/messages';
import { accessKeyRepository } from '../repositories/access-key.repository';
import { accountTokenRepository } from '../repositories/account-token.repository';
import { userRepository } from '../repositories/user.repository';
import { requireSessionUser, requireUser, type RequestContext } from '../request/context';
import { JOB, type JobEnqueuer } from '../request/jobs';
import { inTransaction } from '../request/transaction';
import { authThrottle } from '../security/auth-throttle';
import { recordAudit, recordSystemAudit, userAccountEvent } from './audit.service';
import { normalizeEmail } from './auth.service';
import { queueMail } from './mail-outbox';
import { sessionService } from './session.service';

/** A verification link works for a day, as GoTrue's does by default. */
export const VERIFICATION_TTL_HOURS = 24;
const HOUR_MS = 3600 * 1000;
const INVALID_TOKEN = 'token is invalid, used or expired: ask for a new mail';

/** What the mails of accounts are written with: a request's, or a job's. */
export interface MailWork {
  jobs: JobEnqueuer;
  mail: MailConfig;
  requestId?: string;
}

function mailWorkOf(ctx: RequestContext): MailWork {
  // Sent by this process's worker at once, rather than at its next poll.
  ctx.afterCommit(() => ctx.jobs.nudge(JOB.sendMail));
  return { jobs: ctx.jobs, mail: ctx.config.jobs.mail, requestId: ctx.scope.requestId };
}

/** In `tx`: a new verification token for the user's address (the earlier ones stop working) and its mail. */
export async function queueVerification(work: MailWork, tx: EntityManager, user: Pick<User, 'id' | 'email'>) {
  const { token, hash } = newOpaqueToken();
  await accountTokenRepository.replace(tx, {
    userId: user.id,
    purpose: AccountTokenPurpose.EMAIL_VERIFICATION,
    tokenHash: hash,
    email: user.email,
    expiresAt: new Date(Date.now() + VERIFICATION_TTL_HOURS * HOUR_MS),
  });
  await queueMail(
    tx,
    work.jobs,
    work.mail,
    verificationMail(work.mail, user.email, token, VERIFICATION_TTL_HOURS),
    work.requestId,
  );
}

/**
 * In `tx` (the reset job's): a reset token for `email` and its mail, when the address is a user's;
 * nothing otherwise. The request that asked has answered already, the same either way.
 */
export async function queuePasswordReset(work: MailWork, tx: EntityManager, email: string): Promise<boolean> {
  const user = await userRepository.byEmail(tx, email);
  if (!user) return false;
  const { token, hash } = newOpaqueToken();
  await accountTokenRepository.replace(tx, {
    userId: user.id,
    purpose: AccountTokenPurpose.PASSWORD_RESET,
    tokenHash: hash,
    email: user.email,
    expiresAt: new Date(Date.now() + work.mail.passwordResetTtlMinutes * 60_000),
  });
  await queueMail(tx, work.jobs, work.mail, passwordResetMail(work.mail, user.email, token), work.requestId);
  await recordSystemAudit(tx, userAccountEvent(SYSTEM_ACTIONS.passwordResetRequest, user));
  return true;
}

/** With REQUIRE_VERIFIED_EMAIL=true, what needs a verified address (creating an organization, joining one). */
export async function assertVerifiedEmail(ctx: RequestContext, userId: string, doing: string): Promise<void> {
  if (!ctx.config.accounts.requireVerifiedEmail) return;
  const user = await ctx.loaders.userById.load(userId);
  if (user && !user.emailVerified) {
    throw new ForbiddenError(
      `Verify your e-mail address before you ${doing}: this platform requires it (REQUIRE_VERIFIED_EMAIL). ` +
        'Open the link of the verification mail, or ask for a new one with requestEmailVerification',
    );
  }
}

export class AccountService {
  mailWork(ctx: RequestContext): MailWork {
    return mailWorkOf(ctx);
  }

  async verifyEmail(ctx: RequestContext, token: string): Promise<User> {
    await authThrottle(ctx).attempt('verifyEmail', ctx.clientAddress, ctx.clientAddress);
    const userId = await inTransaction(ctx, async (tx) => {
      const found = await accountTokenRepository.usableForUpdate(
        tx,
        AccountTokenPurpose.EMAIL_VERIFICATION,
        hashToken(token),
      );
      const user = found && (await userRepository.byId(tx, found.userId));
      // A verification holds for the address it was sent to, not one the account has since.
      if (!found || !user || user.email !== found.email) throw BadUserInputError.field('token', INVALID_TOKEN);
      await accountTokenRepository.markUsed(tx, found.id);
      await userRepository.update(tx, user.id, { emailVerified: true });
      await recordAudit(ctx, tx, {
        ...userAccountEvent(AUDIT_ACTIONS.verifyEmail, user),
        changes: diff({ emailVerified: user.emailVerified }, { emailVerified: true }),
      });
      return user.id;
    });
    const user = await userRepository.byId(ctx.db.manager, userId);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  /** Sends a new verification mail; nothing to send for an address already verified. */
  async requestEmailVerification(ctx: RequestContext): Promise<boolean> {
    const userId = requireUser(ctx);
    await authThrottle(ctx).attempt('requestEmailVerification', userId, ctx.clientAddress);
    await inTransaction(ctx, async (tx) => {
      const user = await userRepository.byId(tx, userId);
      if (!user) throw new NotFoundError('User');
      if (user.emailVerified) return;
      await queueVerification(mailWorkOf(ctx), tx, user);
      await recordAudit(ctx, tx, userAccountEvent(AUDIT_ACTIONS.requestEmailVerification, user));
    });
    return true;
  }

  /** Checks the current password (throttled like logIn), and ends every other session. */
  async changePassword(ctx: RequestContext, input: ChangePasswordInput): Promise<boolean> {
    const userId = requireSessionUser(ctx);
    await authThrottle(ctx).attempt('changePassword', userId, ctx.clientAddress);
    const user = await userRepository.withPasswordById(ctx.db.manager, userId);
    if (!user) throw new NotFoundError('User');
    if (!(await verifyPassword(user.hashedPassword, input.currentPassword))) {
      throw BadUserInputError.field('currentPassword', 'currentPassword is not your password');
    }
    if (input.newPassword === input.currentPassword) {
      throw BadUserInputError.field('newPassword', 'newPassword must differ from the current one');
    }
    const hashedPassword = await hashPassword(input.newPassword);
    const told = await inTransaction(ctx, async (tx) => {
      await userRepository.update(tx, userId, { hashedPassword });
      await accountTokenRepository.dropUnused(tx, userId, AccountTokenPurpose.PASSWORD_RESET);
      await recordAudit(ctx, tx, {
        ...userAccountEvent(AUDIT_ACTIONS.changePassword, user),
        changes: diff({ password: 'old' }, { password: 'new' }, ['password']),
      });
      return sessionService.revokeAllOf(tx, userId, 'password_changed', ctx.viewer?.sessionId ?? null);
    });
    await ctx.sessions.forget(told);
    return true;
  }

  /** Always true, after the same work: the job decides whether the address is a user's. */
  async requestPasswordReset(ctx: RequestContext, email: string): Promise<boolean> {
    await authThrottle(ctx).attempt('requestPasswordReset', email, ctx.clientAddress);
    const normalized = normalizeEmail(email);
    await inTransaction(ctx, (tx) =>
      ctx.jobs.enqueue(tx, JOB.passwordResetMail, { email: normalized, requestId: ctx.scope.requestId }),
    );
    ctx.jobs.nudge(JOB.passwordResetMail);
    return true;
  }

  /** Uses the token up, sets the password, and ends every session of the account. */
  async resetPassword(ctx: RequestContext, input: ResetPasswordInput): Promise<boolean> {
    const tokenHash = hashToken(input.token);
    await authThrottle(ctx).attempt('resetPassword', tokenHash, ctx.clientAddress);
    const hashedPassword = await hashPassword(input.newPassword);
    const reset = await inTransaction(ctx, async (tx) => {
      const found = await accountTokenRepository.usableForUpdate(tx, AccountTokenPurpose.PASSWORD_RESET, tokenHash);
      const user = found && (await userRepository.byId(tx, found.userId));
      if (!found || !user) throw BadUserInputError.field('token', INVALID_TOKEN);
      await accountTokenRepository.markUsed(tx, found.id);
      // The link reached the address: that verifies it, as GoTrue's recovery does.
      await userRepository.update(tx, user.id, {
        hashedPassword,
        emailVerified: user.email === found.email || user.emailVerified,
      });
      // Whoever held the account before the reset (a thief, or whoever signed up with the address
      // first) keeps nothing: its personal access tokens end with its sessions.
      const tokensRevoked = await accessKeyRepository.revokePersonalOf(tx, user.id);
      await recordAudit(ctx, tx, {
        ...userAccountEvent(AUDIT_ACTIONS.resetPassword, user),
        changes: diff(
          { password: 'old', personalAccessTokens: tokensRevoked },
          { password: 'new', personalAccessTokens: 0 },
          ['password'],
        ),
      });
      return { told: await sessionService.revokeAllOf(tx, user.id, 'password_reset', null), userId: user.id };
    });
    await Promise.all([ctx.sessions.forget(reset.told), ctx.accessKeys.forget(`principal:${reset.userId}`)]);
    return true;
  }
}

export const accountService = new AccountService();
