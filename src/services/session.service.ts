import { hashToken, newOpaqueToken } from '../crypto/opaque-tokens';
import type { EntityManager } from 'typeorm';
import { issueAccessToken } from '../auth/tokens';
import type { Session } from '../entities/session.entity';
import type { User } from '../entities/user.entity';
import { AUDIT_ACTIONS, AuditActorType, SYSTEM_ACTIONS, type AuditAction } from '../audit/actions';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../errors';
import { assertUuid } from '../inputs/ids';
import { sessionRepository, type SessionInvalidation } from '../repositories/session.repository';
import { userRepository } from '../repositories/user.repository';
import { requireSessionUser, type RequestContext } from '../request/context';
import { inTransaction } from '../request/transaction';
import { authThrottle } from '../security/auth-throttle';
import { recordAudit, userAccountEvent } from './audit.service';
import type { AuthPayload, SessionView } from '../types/auth-payload.type';

const DAY_MS = 24 * 3600 * 1000;
const REFRESH_REFUSED = 'The refresh token is invalid, used or expired: sign in again';

/** A session's end as of now: the idle limit, or its maximum when that comes first. */
function endOf(session: { idleExpiresAt: Date; expiresAt: Date }): Date {
  return session.idleExpiresAt < session.expiresAt ? session.idleExpiresAt : session.expiresAt;
}

export interface StartedSession {
  sessionId: string;
  refreshToken: string;
  endsAt: Date;
}

/** The result of a refresh, settled after its transaction (a reuse's revocation must commit). */
type Refreshed = { ok: true; payload: StartedSession; userId: string } | { ok: false; told?: SessionInvalidation };

export class SessionService {
  /** Starts a session for `userId` in `tx` (log-in, sign-up) from this request's client. */
  async start(ctx: RequestContext, tx: EntityManager, userId: string): Promise<StartedSession> {
    const now = new Date();
    const { accounts } = ctx.config;
    const session = await sessionRepository.insert(tx, {
      userId,
      refreshedAt: now,
      idleExpiresAt: new Date(now.getTime() + accounts.sessionIdleDays * DAY_MS),
      expiresAt: new Date(now.getTime() + accounts.sessionMaxDays * DAY_MS),
      userAgent: ctx.userAgent,
      ipAddress: ctx.clientAddress,
    });
    const refresh = newOpaqueToken();
    await sessionRepository.insertRefreshToken(tx, session.id, refresh.hash);
    return { sessionId: session.id, refreshToken: refresh.token, endsAt: endOf(session) };
  }

  /** The tokens of a started session, for `user` (after the transaction that started it committed). */
  async payload(ctx: RequestContext, user: User, started: StartedSession): Promise<AuthPayload> {
    const access = await issueAccessToken(ctx.config, user.id, started.sessionId, started.endsAt);
    return { accessToken: access.token, refreshToken: started.refreshToken, expiresAt: access.expiresAt, user };
  }

  /**
   * Trades a refresh token for a new pair. A token already traded is theft (the thief or the
   * client used it first): the whole session is revoked, and the answer is UNAUTHENTICATED.
   */
  async refresh(ctx: RequestContext, refreshToken: string): Promise<AuthPayload> {
    const throttle = authThrottle(ctx);
    const waitSeconds = throttle.retryAfterSeconds('refreshSession', ctx.clientAddress);
    if (waitSeconds > 0) throw new UnauthenticatedError(REFRESH_REFUSED);
    const outcome = await inTransaction(ctx, (tx) => this.rotate(ctx, tx, hashToken(refreshToken)));
    if (!outcome.ok) {
      if (outcome.told) await ctx.sessions.forget(outcome.told);
      await throttle.failed('refreshSession', ctx.clientAddress);
      throw new UnauthenticatedError(REFRESH_REFUSED);
    }
    const user = await userRepository.byId(ctx.db.manager, outcome.userId);
    if (!user) throw new UnauthenticatedError(REFRESH_REFUSED);
    return this.payload(ctx, user, outcome.payload);
  }

  private async rotate(ctx: RequestContext, tx: EntityManager, tokenHash: string): Promise<Refreshed> {
    const presented = await sessionRepository.presentedForUpdate(tx, tokenHash);
    if (!presented || presented.revokedAt || endOf(presented).getTime() <= Date.now()) return { ok: false };
    if (presented.rotatedAt) {
      await sessionRepository.revoke(tx, presented.userId, presented.sessionId, 'refresh_token_reused');
      await recordAudit(ctx, tx, {
        ...sessionEvent(SYSTEM_ACTIONS.refreshTokenReused, presented.userId, presented.sessionId),
        actor: { type: AuditActorType.SYSTEM, id: null },
      });
      ctx.scope.log.warn({ sessionId: presented.sessionId }, 'a rotated refresh token was presented: session revoked');
      return { ok: false, told: await sessionRepository.invalidate(tx, `session:${presented.sessionId}`) };
    }
    const now = new Date();
    const idleEnd = new Date(now.getTime() + ctx.config.accounts.sessionIdleDays * DAY_MS);
    const idleExpiresAt = idleEnd < presented.expiresAt ? idleEnd : presented.expiresAt;
    await sessionRepository.markRotated(tx, presented.tokenId);
    await sessionRepository.refreshed(tx, presented.sessionId, {
      refreshedAt: now,
      idleExpiresAt,
      userAgent: ctx.userAgent,
      ipAddress: ctx.clientAddress,
    });
    const next = newOpaqueToken();
    await sessionRepository.insertRefreshToken(tx, presented.sessionId, next.hash);
    await recordAudit(ctx, tx, sessionEvent(AUDIT_ACTIONS.refreshSession, presented.userId, presented.sessionId));
    return {
      ok: true,
      userId: presented.userId,
      payload: { sessionId: presented.sessionId, refreshToken: next.token, endsAt: idleExpiresAt },
    };
  }

  /** The caller's live sessions; `me { sessions }` only. */
  async list(ctx: RequestContext, user: User): Promise<SessionView[]> {
    const userId = requireSessionUser(ctx);
    if (user.id !== userId) throw new ForbiddenError("Only a user's own sessions are listed");
    const sessions = await sessionRepository.liveOf(ctx.db.manager, userId);
    return sessions.map((session) => sessionView(session, ctx.viewer?.sessionId ?? null));
  }

  logOut(ctx: RequestContext): Promise<boolean> {
    const userId = requireSessionUser(ctx);
    return this.revoke(ctx, ctx.viewer?.sessionId ?? '', userId, AUDIT_ACTIONS.logOut);
  }

  /** One of the caller's sessions: NOT_FOUND for another's, or one already ended. */
  revokeOne(ctx: RequestContext, id: string): Promise<boolean> {
    assertUuid('id', id);
    return this.revoke(ctx, id, requireSessionUser(ctx), AUDIT_ACTIONS.revokeSession);
  }

  /** Every session of the caller, this one included. */
  async revokeAll(ctx: RequestContext): Promise<boolean> {
    const userId = requireSessionUser(ctx);
    const told = await inTransaction(ctx, async (tx) => {
      await recordAudit(ctx, tx, userAccountEvent(AUDIT_ACTIONS.revokeAllSessions, { id: userId }));
      return this.revokeAllOf(tx, userId, 'revoked_all', null);
    });
    await ctx.sessions.forget(told);
    return true;
  }

  /** In `tx`: revokes the user's sessions but `except`, and tells every replica once it commits. */
  async revokeAllOf(
    tx: EntityManager,
    userId: string,
    reason: string,
    except: string | null,
  ): Promise<SessionInvalidation> {
    await sessionRepository.revokeAllOf(tx, userId, reason, except);
    return sessionRepository.invalidate(tx, `user:${userId}`);
  }

  private async revoke(
    ctx: RequestContext,
    sessionId: string,
    userId: string,
    action: typeof AUDIT_ACTIONS.logOut | typeof AUDIT_ACTIONS.revokeSession,
  ): Promise<boolean> {
    const reason = action === AUDIT_ACTIONS.logOut ? 'logout' : 'revoked';
    const told = await inTransaction(ctx, async (tx) => {
      if (!(await sessionRepository.revoke(tx, userId, sessionId, reason))) throw new NotFoundError('Session');
      await recordAudit(ctx, tx, sessionEvent(action, userId, sessionId));
      return sessionRepository.invalidate(tx, `session:${sessionId}`);
    });
    await ctx.sessions.forget(told);
    return true;
  }
}

function sessionView(session: Session, current: string | null): SessionView {
  return {
    id: session.id,
    createdAt: session.createdAt,
    lastUsedAt: session.refreshedAt,
    expiresAt: endOf(session),
    userAgent: session.userAgent,
    ipAddress: session.ipAddress,
    current: session.id === current,
  };
}

/** An event of one session of the user's: in their account's log, acted by them. */
function sessionEvent(action: AuditAction, userId: string, sessionId: string) {
  return { ...userAccountEvent(action, { id: userId }), target: { type: 'session', id: sessionId } };
}

export const sessionService = new SessionService();
