import { AUDIT_ACTIONS, AuditActorType, diff, SYSTEM_ACTIONS } from '../audit/actions';
import { recordAudit, recordAuditApart, userAccountEvent } from './audit.service';
import { isEmail } from 'class-validator';
import { requireUser, type RequestContext } from '../request/context';
import { decoyHash, hashPassword, needsRehash, verifyPassword } from '../auth/passwords';
import { inTransaction } from '../request/transaction';
import { User } from '../entities/user.entity';
import { userRepository } from '../repositories/user.repository';
import type { SignupMode } from '../config';
import { BadUserInputError, ForbiddenError, UnauthenticatedError } from '../errors';
import { acceptPendingInvitation, livePendingInvitation } from './invitation-acceptance';
import type { LogInInput, SignUpInput } from '../inputs/auth.inputs';
import { authThrottle } from '../security/auth-throttle';
import type { AuthPayload } from '../types/auth-payload.type';
import { sessionService } from './session.service';
import { accountService, queueVerification } from './account.service';

/** E-mail addresses are compared and stored trimmed and lower-cased. */
export function normalizeEmail(email: string, field = 'email'): string {
  const normalized = email.trim().toLowerCase();
  if (!isEmail(normalized)) throw BadUserInputError.field(field, `${field} must be a valid e-mail address`);
  return normalized;
}

const INVALID_CREDENTIALS = 'Invalid e-mail or password';

const MODE_RULES: Record<SignupMode, string> = {
  open: 'anyone may sign up',
  invite: 'signing up needs an invitation (invitationToken), to an organization or from the operator',
  closed: 'signing up needs an invitation from the operator of this platform (invitationToken)',
};

/**
 * SIGNUP_MODE: `open` lets anyone in (an invitation token, when sent, must still be good);
 * `invite` needs a pending invitation for this address, to an organization or to the platform;
 * `closed` only a platform invitation. A refusal is FORBIDDEN and names the mode.
 */
async function assertMaySignUp(ctx: RequestContext, email: string, token: string | null): Promise<void> {
  const mode = ctx.config.signupMode;
  const refused = (why: string) =>
    new ForbiddenError(`Sign-up refused (SIGNUP_MODE=${mode}: ${MODE_RULES[mode]}): ${why}`);
  if (!token) {
    if (mode !== 'open') throw refused('no invitation was given');
    return;
  }
  const invitation = await livePendingInvitation(ctx.db.manager, token);
  if (!invitation) {
    if (mode === 'open')
      throw BadUserInputError.field('invitationToken', 'invitationToken is not a pending invitation');
    throw refused('the invitation is unknown, used or expired');
  }
  if (invitation.email !== email) throw refused('the invitation was sent to another e-mail address');
  if (mode === 'closed' && invitation.organizationId !== null) {
    throw refused('an organization invitation only lets an existing account join');
  }
}

export class AuthService {
  async signUp(ctx: RequestContext, input: SignUpInput): Promise<AuthPayload> {
    await authThrottle(ctx).attempt('signUp', input.email, ctx.clientAddress);
    const email = normalizeEmail(input.email);
    const displayName = input.displayName.trim();
    if (!displayName) throw BadUserInputError.field('displayName', 'displayName must not be blank');
    if (input.password.toLowerCase().includes(email.split('@')[0]) && email.split('@')[0].length >= 4) {
      throw BadUserInputError.field('password', 'password must not contain your e-mail name');
    }
    const token = input.invitationToken ?? null;
    // Before any hash: a refused sign-up costs the server nothing and says nothing of existing accounts.
    await assertMaySignUp(ctx, email, token);
    const hashedPassword = await hashPassword(input.password);
    const { user, started } = await inTransaction(ctx, async (tx) => {
      const created = await userRepository.insert(tx, { email, displayName, hashedPassword, lastLoginAt: new Date() });
      const joined = token ? await acceptPendingInvitation(tx, token, created) : null;
      if (token) {
        // The invitation went to this address: accepting it verifies it, as GoTrue's invite does.
        await userRepository.update(tx, created.id, { emailVerified: true });
        created.emailVerified = true;
      } else {
        await queueVerification(accountService.mailWork(ctx), tx, created);
      }
      // Joining through an invitation puts the sign-up in that organization's log (and the user's).
      await recordAudit(ctx, tx, {
        ...userAccountEvent(AUDIT_ACTIONS.signUp, created),
        organizationId: joined?.organizationId ?? null,
        changes: diff(null, { email, displayName, password: 1, role: joined?.role }, ['password']),
      });
      return { user: created, started: await sessionService.start(ctx, tx, created.id) };
    });
    return sessionService.payload(ctx, withoutHash(user), started);
  }

  /**
   * Unknown e-mail and wrong password give the same answer after the same work. Attempts are
   * counted before any of it, so a throttled guess costs the server no hash.
   */
  async logIn(ctx: RequestContext, input: LogInInput): Promise<AuthPayload> {
    await authThrottle(ctx).attempt('logIn', input.email, ctx.clientAddress);
    const email = input.email.trim().toLowerCase();
    const user = await userRepository.withPasswordByEmail(ctx.db, email);
    const valid = await verifyPassword(user?.hashedPassword ?? (await decoyHash()), input.password);
    if (!user || !valid) {
      // Recorded apart: the refusal rolls nothing back, and never holds the password.
      await recordAuditApart(ctx, {
        action: SYSTEM_ACTIONS.logInFailed,
        organizationId: null,
        accountId: user?.id ?? null,
        actor: { type: AuditActorType.USER, id: user?.id ?? null, label: email },
        target: { type: 'user', id: user?.id ?? null, label: email },
      });
      throw new UnauthenticatedError(INVALID_CREDENTIALS);
    }
    const changes: Partial<User> = { lastLoginAt: new Date() };
    if (needsRehash(user.hashedPassword)) changes.hashedPassword = await hashPassword(input.password);
    const started = await inTransaction(ctx, async (tx) => {
      await userRepository.update(tx, user.id, changes);
      await recordAudit(ctx, tx, userAccountEvent(AUDIT_ACTIONS.logIn, user));
      return sessionService.start(ctx, tx, user.id);
    });
    return sessionService.payload(ctx, withoutHash({ ...user, ...changes }), started);
  }

  async me(ctx: RequestContext): Promise<User> {
    const userId = requireUser(ctx, 'An API key acts as a service account, not a user: ask for viewer instead');
    const user = await ctx.loaders.userById.load(userId);
    // A valid token for a deleted account is no longer a session.
    if (!user) throw new UnauthenticatedError();
    return user;
  }
}

export function withoutHash(user: User): User {
  const copy = Object.assign(new User(), user);
  delete (copy as Partial<User>).hashedPassword;
  return copy;
}

export const authService = new AuthService();
