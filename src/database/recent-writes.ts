import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import { BoundedMap } from '../bounded-map';
import { Echoes, listenForNotifications, type NotificationListener } from './notifications';

/** The channel on which every committed write names its caller, for every API process. */
export const WRITES_CHANNEL = 'platform_writes';
/** Callers remembered, at most: past it the oldest are forgotten (their reads may then go to a replica). */
const WRITERS_KEPT = 100_000;
/** How long a write waits to hear its own notification before answering anyway. */
const ECHO_WAIT_MS = 1000;

/** What a request's transaction does for read-your-writes (src/request/transaction.ts calls it). */
export interface WriteTracking {
  /** In the write's transaction: a notification, delivered to every process when (and if) it commits. */
  inTransaction(tx: EntityManager, writers: string[]): Promise<string>;
  /** Once committed: waits (briefly, at most) until this process heard it, and so the others did too. */
  committed(payload: string): Promise<void>;
}

/**
 * Read-your-writes across API processes: every committed write names its caller (principal and
 * client address) on a channel that every process LISTENs to, and for `windowMs` afterwards that
 * caller's reads go to the primary. A caller that has not written recently costs a map lookup.
 * While this process is not listening (starting, connection lost, no direct connection behind a
 * pooler) it cannot know who wrote: every read goes to the primary.
 */
export class RecentWrites implements WriteTracking {
  private readonly until = new BoundedMap<string, number>(WRITERS_KEPT);
  private listening = false;
  private listener?: NotificationListener;
  private sent = 0;
  private readonly echoes = new Echoes(ECHO_WAIT_MS);

  /** `windowMs` 0 (READ_YOUR_WRITES_SECONDS=0): writes are not told, and reads never wait for them. */
  constructor(
    readonly windowMs: number,
    private readonly log: Logger,
  ) {}

  listen(url: string): void {
    this.listener = listenForNotifications(
      url,
      WRITES_CHANNEL,
      {
        ready: () => (this.listening = true),
        lost: () => this.stopListening(),
        message: (payload) => this.heard(payload),
      },
      this.log,
    );
  }

  /** Whether this caller's reads must go to the primary. */
  mustReadPrimary(writers: string[]): boolean {
    if (this.windowMs === 0) return false;
    if (!this.listening) return true;
    const now = Date.now();
    return writers.some((writer) => (this.until.get(writer) ?? 0) > now);
  }

  async inTransaction(tx: EntityManager, writers: string[]): Promise<string> {
    this.sent += 1;
    const payload = `${process.pid}.${this.sent} ${writers.join(' ')}`;
    await tx.query('SELECT pg_notify($1, $2)', [WRITES_CHANNEL, payload]);
    return payload;
  }

  async committed(payload: string): Promise<void> {
    this.remember(payload);
    if (!this.listening) return;
    await this.echoes.wait(payload);
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }

  private heard(payload: string): void {
    this.remember(payload);
    this.echoes.heard(payload);
  }

  private remember(payload: string): void {
    const until = Date.now() + this.windowMs;
    for (const writer of payload.split(' ').slice(1)) {
      this.until.delete(writer);
      this.until.set(writer, until);
    }
  }

  private stopListening(): void {
    this.listening = false;
    this.echoes.releaseAll();
  }
}
