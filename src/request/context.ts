import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config';
import { RequestLoaders, type Loaders } from './loaders';
import type { RequestScope } from '../database/request-database';
import { ForbiddenError, RateLimitedError, UnauthenticatedError } from '../errors';
import { Authentication, PrincipalKind, type Principal } from '../permissions';
import type { JobEnqueuer } from './jobs';

/** The caller: whose roles and grants decide (a user or a service account), and how it authenticated. */
export interface Viewer {
  principal: Principal;
  authentication: Authentication;
  /** The service account's organization; null for a user. */
  organizationId: string | null;
  /** The personal access token or API key the request came with; null for a session's token. */
  accessKeyId: string | null;
  /** The session whose access token the request came with; null for a personal access token or API key. */
  sessionId: string | null;
}

/** This process's memory of access keys: what a revocation tells it once its transaction committed. */
export interface AccessKeyMemory {
  /**
   * Forgets at once what this process knew (`key:<lookup id>`, `principal:<id>`, `organization:<id>`),
   * then waits (briefly, at most) until the notification that tells the other replicas came back.
   */
  forget(what: string): Promise<void>;
}

/** This process's memory of sessions: what a revocation tells it once its transaction committed. */
export interface SessionMemory {
  /** Forgets at once (`session:<id>`, `user:<id>`), then waits briefly for the other replicas' notification. */
  forget(what: string): Promise<void>;
}

/** What a request's context is made from. */
export interface RequestContextParts {
  scope: RequestScope;
  viewer: Viewer | null;
  invalidToken: boolean;
  /** Seconds to wait when failed key authentications from this address are throttled; 0 otherwise. */
  throttledSeconds?: number;
  clientAddress: string;
  /** The User-Agent header as sent (at most 512 characters); null when there was none. */
  userAgent?: string | null;
  db: DataSource;
  config: AppConfig;
  jobs: JobEnqueuer;
  accessKeys: AccessKeyMemory;
  sessions: SessionMemory;
}

/**
 * Built once per request: who is calling, the database, and this request's loaders. A class, so
 * that the loaders' accessor lives on the prototype (V8 keeps an object's own accessor pair in the
 * old generation, one per request).
 */
export class RequestContext {
  /** The request's id, statement count and logger (`scope.log`: lines carry the request id). */
  readonly scope: RequestScope;
  readonly viewer: Viewer | null;
  /** Set when a bearer token was sent but did not verify. */
  readonly invalidToken: boolean;
  readonly throttledSeconds: number;
  /** The client's address, for throttling and audit. */
  readonly clientAddress: string;
  /** The client's User-Agent, for sessions and audit. */
  readonly userAgent: string | null;
  readonly db: DataSource;
  readonly config: AppConfig;
  /** The durable job queue: work after the commit is enqueued in the transaction. */
  readonly jobs: JobEnqueuer;
  /** Revocations reach this process's memory of keys through it. */
  readonly accessKeys: AccessKeyMemory;
  /** Revocations of sessions reach this process's memory through it. */
  readonly sessions: SessionMemory;
  private current?: Loaders;
  private committedCallbacks?: (() => void)[];

  constructor(parts: RequestContextParts) {
    this.scope = parts.scope;
    this.viewer = parts.viewer;
    this.invalidToken = parts.invalidToken;
    this.throttledSeconds = parts.throttledSeconds ?? 0;
    this.clientAddress = parts.clientAddress;
    this.userAgent = parts.userAgent ?? null;
    this.db = parts.db;
    this.config = parts.config;
    this.jobs = parts.jobs;
    this.accessKeys = parts.accessKeys;
    this.sessions = parts.sessions;
  }

  /** Made on first use: a request that reads nothing through them (a rename) makes none. */
  get loaders(): Loaders {
    return (this.current ??= new RequestLoaders(this.db, this.viewer?.principal ?? null));
  }

  /** After a write, cached reads of this request may be stale: the next read starts from fresh loaders. */
  refreshLoaders(): void {
    this.current = undefined;
  }

  /** Runs `callback` once the request's current transaction has committed (never if it rolls back). */
  afterCommit(callback: () => void): void {
    (this.committedCallbacks ??= []).push(callback);
  }

  /** Called by the transaction helper: `committed` says whether the transaction committed. */
  settleTransaction(committed: boolean): void {
    const callbacks = this.committedCallbacks;
    this.committedCallbacks = undefined;
    if (committed) for (const callback of callbacks ?? []) callback();
  }
}

export function requireViewer(ctx: RequestContext): Viewer {
  if (!ctx.viewer) {
    if (ctx.throttledSeconds > 0) throw new RateLimitedError(ctx.throttledSeconds);
    throw new UnauthenticatedError(
      ctx.invalidToken ? 'The access token is invalid or has expired: sign in again' : undefined,
    );
  }
  return ctx.viewer;
}

/** The signed-in user's id; a service account is refused what only a person may do. */
export function requireUser(ctx: RequestContext, refusal = 'Service accounts cannot do this: it is for users'): string {
  const { principal } = requireViewer(ctx);
  if (principal.kind !== PrincipalKind.USER) throw new ForbiddenError(refusal);
  return principal.id;
}

/**
 * The user, signed in with a session: personal access tokens and API keys cannot manage the
 * caller's credentials (a leaked one cannot mint more, nor outlive its own revocation).
 */
export function requireSessionUser(ctx: RequestContext): string {
  const userId = requireUser(ctx);
  if (ctx.viewer?.authentication !== Authentication.SESSION) {
    throw new ForbiddenError('Personal access tokens cannot manage tokens: sign in with a password');
  }
  return userId;
}
