import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { BoundedMap } from '../bounded-map';
import { Echoes, listenForNotifications, type NotificationListener } from '../database/notifications';
import { SESSION_CHANNEL, sessionRepository } from '../repositories/session.repository';
import type { SessionMemory } from '../request/context';
import type { AccessClaims } from './tokens';

/** Sessions remembered, at most, live and revoked each. */
const SESSIONS_KEPT = 100_000;
/** How long a revocation waits for its notification to come back before answering anyway. */
const ECHO_WAIT_MS = 2000;

/**
 * Whether an access token's session is live. A session is read once per process and remembered
 * while a connection LISTENs for the revocations any replica commits: a known-live session costs
 * a Map lookup, and a revoked one is refused on the next request everywhere. Without the
 * listening connection only revocations are remembered (they are final) and every other token
 * reads its session, until it is back. Expiry needs no check: no access token outlives its session.
 */
export class SessionVerifier implements SessionMemory {
  /** Live sessions: id → user id. */
  private readonly live = new BoundedMap<string, string>(SESSIONS_KEPT);
  /** Sessions found revoked or ended: final, so remembered even while not listening. */
  private readonly ended = new BoundedMap<string, true>(SESSIONS_KEPT);
  private listening = false;
  /** Moves on every invalidation, so that a read that raced one is not remembered. */
  private epoch = 0;
  private listener?: NotificationListener;
  private readonly echoes = new Echoes(ECHO_WAIT_MS);

  constructor(private readonly log: Logger) {}

  listen(url: string): void {
    this.listener = listenForNotifications(
      url,
      SESSION_CHANNEL,
      {
        ready: () => this.forgetAll(true),
        lost: () => this.forgetAll(false),
        message: (payload) => this.heard(payload),
      },
      this.log,
    );
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

  async forget(what: string): Promise<void> {
    this.invalidate(what);
    if (!this.listening) return;
    await this.echoes.wait(what);
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }

  private forgetAll(listening: boolean): void {
    this.listening = listening;
    this.epoch += 1;
    this.live.clear();
    if (listening) return;
    this.echoes.releaseAll();
  }

  private heard(payload: string): void {
    this.invalidate(payload);
    this.echoes.heard(payload);
  }

  private invalidate(payload: string): void {
    this.epoch += 1;
    const colon = payload.indexOf(':');
    const [what, id] = [payload.slice(0, colon), payload.slice(colon + 1)];
    if (what === 'session') {
      this.live.delete(id);
      return;
    }
    for (const [sessionId, userId] of this.live) if (userId === id) this.live.delete(sessionId);
  }
}
