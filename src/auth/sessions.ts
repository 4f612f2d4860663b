import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { BoundedMap } from '../bounded-map';
import { RevocationMemory } from '../database/notifications';
import { SESSION_CHANNEL, sessionRepository } from '../repositories/session.repository';
import type { SessionMemory } from '../request/context';
import type { AccessClaims } from './tokens';

/** Sessions remembered, at most, live and revoked each. */
const SESSIONS_KEPT = 100_000;

/**
 * Whether an access token's session is live. A session is read once per process and remembered
 * while a connection LISTENs for the revocations any replica commits: a known-live session costs
 * a Map lookup, and a revoked one is refused on the next request everywhere. Without the
 * listening connection only revocations are remembered (they are final) and every other token
 * reads its session, until it is back. Expiry needs no check: no access token outlives its session.
 */
export class SessionVerifier extends RevocationMemory implements SessionMemory {
  /** Live sessions: id → user id. */
  private readonly live = new BoundedMap<string, string>(SESSIONS_KEPT);
  /** Sessions found revoked or ended: final, so remembered even while not listening. */
  private readonly ended = new BoundedMap<string, true>(SESSIONS_KEPT);

  constructor(log: Logger) {
    super(SESSION_CHANNEL, log);
  }

  /** True when the claims' session is known live here: no statement, no allocation. */
  knownLive(claims: AccessClaims): boolean {
    return this.listening && this.live.get(claims.sessionId) === claims.userId;
  }

  /** Reads the session (`db` is the request's); whether it is live and the claims' user's. */
  async isLive(claims: AccessClaims, db: DataSource): Promise<boolean> {
    if (this.knownLive(claims)) return true;
    if (this.ended.has(claims.sessionId)) return false;
    const epoch = this.epoch;
    const state = await sessionRepository.liveState(db, claims.sessionId);
    if (!state) {
      this.ended.set(claims.sessionId, true);
      return false;
    }
    if (this.listening && epoch === this.epoch) this.live.set(claims.sessionId, state.userId);
    return state.userId === claims.userId;
  }

  protected dropAll(): void {
    this.live.clear();
  }

  protected drop(what: string, id: string): void {
    if (what === 'session') {
      this.live.delete(id);
      return;
    }
    for (const [sessionId, userId] of this.live) if (userId === id) this.live.delete(sessionId);
  }
}
