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

/** Built once per request: who is calling, the database, and this request's loaders. */
export interface RequestContext {
  /** The request's id, statement count and logger (`scope.log`: lines carry the request id). */
  scope: RequestScope;
  viewer: Viewer | null;
  /** The client's address, for throttling and audit. */
  clientAddress: string;
  db: DataSource;
  config: AppConfig;
  loaders: Loaders;
  provisioner: ProvisionScheduler;
  /** Set when a bearer token was sent but did not verify. */
  invalidToken: boolean;
}

export function requireViewer(ctx: RequestContext): Viewer {
  if (!ctx.viewer) {
    throw new UnauthenticatedError(
      ctx.invalidToken ? 'The access token is invalid or has expired: sign in again' : undefined,
    );
  }
  return ctx.viewer;
}

/** After a write, cached reads of this request may be stale: start from fresh loaders. */
export function refreshLoaders(ctx: RequestContext): void {
  ctx.loaders = createLoaders(ctx.db, ctx.viewer?.userId ?? null);
}
