import type { DataSource, EntityManager } from 'typeorm';
import { leanQuery } from '../database/request-database';
import { Session, SessionRefreshToken } from '../entities/session.entity';

/** The channel on which revocations of sessions are told to every replica. */
export const SESSION_CHANNEL = 'platform_sessions';

/** `session:<id>` forgets one session; `user:<id>` every session of a user. */
export type SessionInvalidation = `session:${string}` | `user:${string}`;

export type SessionStart = Pick<
  Session,
  'userId' | 'refreshedAt' | 'idleExpiresAt' | 'expiresAt' | 'userAgent' | 'ipAddress'
>;

/** A refresh token with its session, as the refresh reads it under lock. */
export interface PresentedRefreshToken {
  tokenId: string;
  rotatedAt: Date | null;
  sessionId: string;
  userId: string;
  idleExpiresAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

type Row = Record<string, unknown>;

export const sessionRepository = {
  async insert(tx: EntityManager, start: SessionStart): Promise<Session> {
    return tx.save(tx.create(Session, start));
  },

  async insertRefreshToken(tx: EntityManager, sessionId: string, tokenHash: string): Promise<void> {
    await tx.insert(SessionRefreshToken, { sessionId, tokenHash, rotatedAt: null });
  },

  /** The token and its session, both locked: two refreshes with one token are serialized. */
  async presentedForUpdate(tx: EntityManager, tokenHash: string): Promise<PresentedRefreshToken | null> {
    const rows = await tx.query<Row[]>(
      `SELECT t.id, t.rotated_at, s.id AS session_id, s.user_id, s.idle_expires_at, s.expires_at, s.revoked_at
       FROM platform.session_refresh_tokens t JOIN platform.sessions s ON s.id = t.session_id
       WHERE t.token_hash = $1 FOR UPDATE OF t, s`,
      [tokenHash],
    );
    if (!rows.length) return null;
    const row = rows[0];
    return {
      tokenId: row.id as string,
      rotatedAt: row.rotated_at as Date | null,
      sessionId: row.session_id as string,
      userId: row.user_id as string,
      idleExpiresAt: row.idle_expires_at as Date,
      expiresAt: row.expires_at as Date,
      revokedAt: row.revoked_at as Date | null,
    };
  },

  async markRotated(tx: EntityManager, tokenId: string): Promise<void> {
    await tx.query('UPDATE platform.session_refresh_tokens SET rotated_at = now(), updated_at = now() WHERE id = $1', [
      tokenId,
    ]);
  },

  async refreshed(
    tx: EntityManager,
    sessionId: string,
    values: Pick<Session, 'refreshedAt' | 'idleExpiresAt' | 'userAgent' | 'ipAddress'>,
  ): Promise<void> {
    await tx.update(Session, { id: sessionId }, values);
  },

  /** Whether the session exists for `userId` and is live (not revoked, not expired): one row at most. */
  async liveState(db: DataSource, sessionId: string): Promise<{ userId: string } | null> {
    const rows = await leanQuery<Row>(
      db,
      `SELECT user_id FROM platform.sessions
       WHERE id = $1 AND revoked_at IS NULL AND expires_at > now() AND idle_expires_at > now()`,
      [sessionId],
    );
    return rows.length ? { userId: rows[0].user_id as string } : null;
  },

  /** The user's live sessions, the latest refreshed first. */
  liveOf(tx: EntityManager, userId: string): Promise<Session[]> {
    return tx
      .getRepository(Session)
      .createQueryBuilder('s')
      .where('s.user_id = :userId AND s.revoked_at IS NULL AND s.expires_at > now() AND s.idle_expires_at > now()', {
        userId,
      })
      .orderBy('s.refreshed_at', 'DESC')
      .addOrderBy('s.id')
      .getMany();
  },

  /** Revokes one live session of `userId`; whether there was one. */
  async revoke(tx: EntityManager, userId: string, sessionId: string, reason: string): Promise<boolean> {
    const [rows] = await tx.query<[unknown[], number]>(
      `UPDATE platform.sessions SET revoked_at = now(), revoked_reason = $3, updated_at = now()
       WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id`,
      [sessionId, userId, reason],
    );
    return rows.length > 0;
  },

  /** Revokes every live session of `userId` but `except` (when given); how many. */
  async revokeAllOf(tx: EntityManager, userId: string, reason: string, except: string | null): Promise<number> {
    const [rows] = await tx.query<[unknown[], number]>(
      `UPDATE platform.sessions SET revoked_at = now(), revoked_reason = $2, updated_at = now()
       WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid) RETURNING id`,
      [userId, reason, except],
    );
    return rows.length;
  },

  /**
   * Removes sessions that ended more than `keepDays` before `asOf` (their tokens go with them), and
   * refresh tokens rotated more than a day before it, as GoTrue's cleanup does: a token that old
   * presented again is refused as unknown rather than detected as reused. How many rows went.
   */
  async deleteEnded(db: EntityManager, asOf: Date, keepDays: number): Promise<number> {
    const [sessions] = await db.query<[unknown[], number]>(
      `DELETE FROM platform.sessions
       WHERE LEAST(COALESCE(revoked_at, 'infinity'), expires_at, idle_expires_at) < $1::timestamptz - make_interval(days => $2)
       RETURNING id`,
      [asOf, keepDays],
    );
    const [tokens] = await db.query<[unknown[], number]>(
      `DELETE FROM platform.session_refresh_tokens WHERE rotated_at < $1::timestamptz - interval '1 day' RETURNING id`,
      [asOf],
    );
    return sessions.length + tokens.length;
  },

  /** Tells every replica, when the transaction commits (NOTIFY is transactional), to forget what it knew. */
  async invalidate(tx: EntityManager, what: SessionInvalidation): Promise<SessionInvalidation> {
    await tx.query('SELECT pg_notify($1, $2)', [SESSION_CHANNEL, what]);
    return what;
  },
};
