import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config';
import { RequestLoaders, type Loaders } from './loaders';
import type { RequestScope } from '../database/request-database';
import { UnauthenticatedError } from '../errors';
import type { JobEnqueuer } from './jobs';

export interface Viewer {
  userId: string;
}

/** What a request's context is made from. */
export interface RequestContextParts {
  scope: RequestScope;
  viewer: Viewer | null;
  invalidToken: boolean;
  clientAddress: string;
  db: DataSource;
  config: AppConfig;
  jobs: JobEnqueuer;
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
  /** The client's address, for throttling and audit. */
  readonly clientAddress: string;
  readonly db: DataSource;
  readonly config: AppConfig;
  /** The durable job queue: work after the commit is enqueued in the transaction. */
  readonly jobs: JobEnqueuer;
  private current?: Loaders;
  private committedCallbacks?: (() => void)[];

  constructor(parts: RequestContextParts) {
    this.scope = parts.scope;
    this.viewer = parts.viewer;
    this.invalidToken = parts.invalidToken;
    this.clientAddress = parts.clientAddress;
    this.db = parts.db;
    this.config = parts.config;
    this.jobs = parts.jobs;
  }

  /** Made on first use: a request that reads nothing through them (a rename) makes none. */
  get loaders(): Loaders {
    return (this.current ??= new RequestLoaders(this.db, this.viewer?.userId ?? null));
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
    throw new UnauthenticatedError(
      ctx.invalidToken ? 'The access token is invalid or has expired: sign in again' : undefined,
    );
  }
  return ctx.viewer;
}
