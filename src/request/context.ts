import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config';
import { createLoaders, type Loaders } from './loaders';
import type { RequestScope } from '../database/request-database';
import { UnauthenticatedError } from '../errors';
import type { ProjectStatus } from '../entities/project.entity';

/** Moves a project out of a transitional state after the request's commit. */
export interface ProvisionScheduler {
  schedule(projectId: string, from: ProjectStatus, to: ProjectStatus): void;
}

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
  provisioner: ProvisionScheduler;
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
  readonly provisioner: ProvisionScheduler;
  private current?: Loaders;

  constructor(parts: RequestContextParts) {
    this.scope = parts.scope;
    this.viewer = parts.viewer;
    this.invalidToken = parts.invalidToken;
    this.clientAddress = parts.clientAddress;
    this.db = parts.db;
    this.config = parts.config;
    this.provisioner = parts.provisioner;
  }

  /** Made on first use: a request that reads nothing through them (a rename) makes none. */
  get loaders(): Loaders {
    return (this.current ??= createLoaders(this.db, this.viewer?.userId ?? null));
  }

  /** After a write, cached reads of this request may be stale: the next read starts from fresh loaders. */
  refreshLoaders(): void {
    this.current = undefined;
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
