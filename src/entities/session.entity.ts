import { Check, Column, Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { BaseEntity } from './base.entity';
import { User } from './user.entity';

/**
 * A signed-in client: what a log-in starts and a refresh extends. Access tokens name it (`sid`),
 * so revoking it ends them all at once; it ends by itself after `idleExpiresAt` without a refresh
 * and at `expiresAt` in all.
 */
@Entity({ name: 'sessions' })
@Check('CHK_sessions_revocation', '(revoked_at IS NULL) = (revoked_reason IS NULL)')
export class Session extends BaseEntity {
  @Index()
  @Column({ type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** Its last refresh (or its start). */
  @Column({ type: 'timestamptz' })
  refreshedAt: Date;

  /** SESSION_IDLE_DAYS after the last refresh. */
  @Column({ type: 'timestamptz' })
  idleExpiresAt: Date;

  /** SESSION_MAX_DAYS after its start, whatever the refreshes. */
  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @Column({ type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ipAddress: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** logout, revoked, revoked_all, password_changed, password_reset, refresh_token_reused. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  revokedReason: string | null;
}

/**
 * A session's refresh tokens, as SHA-256 hashes: the current one (not rotated) and those it
 * replaced, kept so that one presented again is recognised as stolen.
 */
@Entity({ name: 'session_refresh_tokens' })
@Unique(['tokenHash'])
@Check('CHK_session_refresh_tokens_token_hash', `token_hash ~ '^[0-9a-f]{64}$'`)
export class SessionRefreshToken extends BaseEntity {
  @Index()
  @Column({ type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => Session, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: Session;

  @Column({ type: 'char', length: 64 })
  tokenHash: string;

  @Column({ type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;
}
