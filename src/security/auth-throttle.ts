import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { AppConfig, AuthRateLimit } from '../config';
import { BoundedMap } from '../bounded-map';
import { RateLimitedError, ServiceUnavailableError } from '../errors';

/** The operations that check a secret (a password, an invitation token, an access key) and so invite guessing. */
export type ThrottledOperation =
  | 'logIn'
  | 'signUp'
  | 'acceptInvitation'
  | 'accessKey'
  | 'refreshSession'
  | 'changePassword'
  | 'requestPasswordReset'
  | 'resetPassword'
  | 'verifyEmail'
  | 'requestEmailVerification';

/** Blocked addresses remembered, at most (a flood of addresses cannot grow the memory). */
const BLOCKS_KEPT = 100_000;

/** The store's table (migration AddAuthThrottle): unlogged, on the primary. */
const TABLE = 'auth_throttle';

/** What the store sends PostgreSQL through: statement names dropped behind a pooler (PgBouncer < 1.21 mixes them up). */
function storeClient(pool: Pool, named: boolean) {
  return {
    query: (query: { name?: string; text: string; values?: unknown[] }) =>
      pool.query(named ? query : { text: query.text, values: query.values }),
  };
}

/** The store's key: an account by its hash, so that no e-mail address sits in the table. */
function accountKey(operation: ThrottledOperation, account: string): string {
  const digest = createHash('sha256').update(account.trim().toLowerCase()).digest('base64url');
  return `${operation}:account:${digest}`;
}

const addressKey = (operation: ThrottledOperation, address: string) => `${operation}:address:${address}`;

/**
 * Counts attempts at the throttled operations per account and per client address, in PostgreSQL
 * (rate-limiter-flexible's store), so that every API process sees the same counts: `per…` attempts
 * per fixed window. Each executed operation is one attempt, so aliases and batches count once per
 * field. A database that does not answer refuses log-in attempts (SERVICE_UNAVAILABLE): never open.
 */
export class AuthThrottle {
  private readonly accounts: RateLimiterPostgres;
  private readonly addresses: RateLimiterPostgres;
  /** Addresses whose failures used up their attempts (shared count), until when: see retryAfterSeconds. */
  private readonly blocked = new BoundedMap<string, number>(BLOCKS_KEPT);

  constructor(limits: AuthRateLimit, pool: Pool, namedStatements: boolean) {
    const store = (points: number, keyPrefix: string) =>
      new RateLimiterPostgres({
        storeClient: storeClient(pool, namedStatements),
        storeType: 'client',
        schemaName: 'platform',
        tableName: TABLE,
        tableCreated: true,
        keyPrefix,
        points,
        duration: limits.windowSeconds,
      });
    this.accounts = store(limits.perAccount, 'account');
    this.addresses = store(limits.perAddress, 'address');
  }

  /**
   * Counts one attempt, or throws RATE_LIMITED when the account or the address has no attempt
   * left (refused attempts at an account do not use up its address's). Call it before any work
   * an attacker would want repeated.
   */
  async attempt(operation: ThrottledOperation, account: string, address: string): Promise<void> {
    await this.consume(this.accounts, accountKey(operation, account));
    await this.consume(this.addresses, addressKey(operation, address));
  }

  /**
   * Seconds until the address may try `operation` again; 0 while it may. Read from this process's
   * memory of the blocks its failures ran into, so that a valid key costs no statement: another
   * process's failures block here at this process's first failure after them (the shared count).
   */
  retryAfterSeconds(operation: ThrottledOperation, address: string): number {
    const key = addressKey(operation, address);
    const until = this.blocked.get(key);
    if (until === undefined) return 0;
    const waitMs = until - Date.now();
    if (waitMs > 0) return Math.ceil(waitMs / 1000);
    this.blocked.delete(key);
    return 0;
  }

  /** Counts a failed attempt against the address: for operations where only failures are limited. */
  async failed(operation: ThrottledOperation, address: string): Promise<void> {
    const key = addressKey(operation, address);
    const counted = await this.addresses.penalty(key).catch(() => null);
    if (counted && counted.consumedPoints >= this.addresses.points) {
      this.blocked.set(key, Date.now() + counted.msBeforeNext);
    }
  }

  private async consume(limiter: RateLimiterPostgres, key: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) {
        throw new RateLimitedError(Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)));
      }
      throw new ServiceUnavailableError();
    }
  }
}

/** One throttle per running server: each server has a configuration object of its own. */
const throttles = new WeakMap<AppConfig, AuthThrottle>();

/** `db`'s primary pool counts (never a replica's: the table is unlogged, and counts are written). */
export function authThrottle(ctx: { config: AppConfig; db: DataSource }): AuthThrottle {
  let throttle = throttles.get(ctx.config);
  if (!throttle) {
    const pool = (ctx.db.driver as PostgresDriver).master as Pool;
    const named = (ctx.db as { connectionMode?: { namedStatements: boolean } }).connectionMode?.namedStatements;
    throttle = new AuthThrottle(ctx.config.authRateLimit, pool, named !== false);
    throttles.set(ctx.config, throttle);
  }
  return throttle;
}
