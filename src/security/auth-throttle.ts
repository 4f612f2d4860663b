import type { RequestContext } from '../request/context';
import type { AppConfig, AuthRateLimit } from '../config';
import { RateLimitedError } from '../errors';
import { TokenBuckets } from './token-buckets';

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

/**
 * Counts attempts at the throttled operations per account and per client address. Each
 * executed operation is one attempt, so aliases and batches count once per field.
 */
export class AuthThrottle {
  private readonly accounts: TokenBuckets;
  private readonly addresses: TokenBuckets;

  constructor(limits: AuthRateLimit, now: () => number = Date.now) {
    const windowMs = limits.windowSeconds * 1000;
    this.accounts = new TokenBuckets(limits.perAccount, windowMs, 100_000, now);
    this.addresses = new TokenBuckets(limits.perAddress, windowMs, 100_000, now);
  }

  /**
   * Counts one attempt, or throws RATE_LIMITED (counting nothing) when the account or the
   * address has no attempt left. Call it before any work an attacker would want repeated.
   */
  attempt(operation: ThrottledOperation, account: string, address: string): void {
    const accountKey = `${operation}\u0000${account.trim().toLowerCase()}`;
    const addressKey = `${operation}\u0000${address}`;
    const waitMs = Math.max(this.accounts.retryAfterMs(accountKey), this.addresses.retryAfterMs(addressKey));
    if (waitMs > 0) throw new RateLimitedError(Math.ceil(waitMs / 1000));
    this.accounts.take(accountKey);
    this.addresses.take(addressKey);
  }

  /** Seconds until the address may try `operation` again; 0 while it may. */
  retryAfterSeconds(operation: ThrottledOperation, address: string): number {
    return Math.ceil(this.addresses.retryAfterMs(`${operation}\u0000${address}`) / 1000);
  }

  /** Counts a failed attempt against the address: for operations where only failures are limited. */
  failed(operation: ThrottledOperation, address: string): void {
    this.addresses.take(`${operation}\u0000${address}`);
  }
}

/** One throttle per running server: each server has a configuration object of its own. */
const throttles = new WeakMap<AppConfig, AuthThrottle>();

export function authThrottle(ctx: Pick<RequestContext, 'config'>): AuthThrottle {
  let throttle = throttles.get(ctx.config);
  if (!throttle) {
    throttle = new AuthThrottle(ctx.config.authRateLimit);
    throttles.set(ctx.config, throttle);
  }
  return throttle;
}
