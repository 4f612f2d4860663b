import type { IncomingMessage } from 'node:http';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { AccessKeyVerifier } from '../auth/access-keys';
import type { SessionVerifier } from '../auth/sessions';
import { cachedTokenVerifier } from '../auth/tokens';
import type { AppConfig } from '../config';
import { looksLikeKey } from '../crypto/access-key-secrets';
import { requestDatabase, type RequestScope } from '../database/request-database';
import { callerLookupFailure } from '../errors';
import { Authentication, PrincipalKind } from '../permissions';
import { RequestContext, type Viewer } from '../request/context';
import type { JobEnqueuer } from '../request/jobs';
import { authThrottle } from '../security/auth-throttle';
import { clientAddress } from '../security/client-address';
import type { ReadRouting } from './read-routing';

export type ContextBuilder = (req: IncomingMessage, scope: RequestScope) => Promise<RequestContext>;

/** Longest User-Agent kept: enough for any real client, bounded for what is stored. */
const USER_AGENT_MAX = 512;

function userAgentOf(req: IncomingMessage): string | null {
  const header = req.headers['user-agent'];
  return header ? header.slice(0, USER_AGENT_MAX) : null;
}

/** The bearer token sent, '' for a malformed Authorization header, null for none. */
function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1] : '';
}

interface Caller {
  viewer: Viewer | null;
  throttledSeconds: number;
}

/** A session's access token to its caller: a known-live session is a Map lookup; a revoked one is refused at once. */
function sessionCallerOf(config: AppConfig, sessions: SessionVerifier) {
  const verifyToken = cachedTokenVerifier(config);
  return async (token: string, db: DataSource): Promise<Caller> => {
    const claims = await verifyToken(token);
    const live = claims !== null && (sessions.knownLive(claims) || (await sessions.isLive(claims, db)));
    const viewer: Viewer | null = live
      ? {
          principal: { kind: PrincipalKind.USER, id: claims.userId },
          authentication: Authentication.SESSION,
          organizationId: null,
          accessKeyId: null,
          sessionId: claims.sessionId,
        }
      : null;
    return { viewer, throttledSeconds: 0 };
  };
}

/**
 * Builds each request's context: its caller from the bearer token (a session's access token, or
 * an API key or personal access token by its prefix), its database handle and loaders.
 */
export function requestContextBuilder(
  config: AppConfig,
  dataSource: DataSource,
  jobs: JobEnqueuer,
  keys: AccessKeyVerifier,
  sessions: SessionVerifier,
  routing?: ReadRouting,
): ContextBuilder {
  const sessionCaller = sessionCallerOf(config, sessions);
  // Failed key authentications are throttled per address like failed log-ins; a throttled one costs no lookup.
  const throttle = authThrottle({ config, db: dataSource });
  const keyCaller = async (token: string, address: string, db: DataSource): Promise<Caller> => {
    const waitSeconds = throttle.retryAfterSeconds('accessKey', address);
    if (waitSeconds > 0) return { viewer: null, throttledSeconds: waitSeconds };
    const viewer = await keys.verify(token, db);
    if (!viewer) await throttle.failed('accessKey', address);
    return { viewer, throttledSeconds: 0 };
  };
  const replicaLost = (pool: Pool) => routing?.replicas.lost(pool);
  return async (req, scope) => {
    const token = bearerToken(req);
    const address = clientAddress(req, config.trustProxyHops);
    if (routing) {
      scope.writes = routing.writes.windowMs > 0 ? routing.writes : undefined;
      scope.replicaLost = replicaLost;
    }
    const db = requestDatabase(dataSource, scope);
    let caller: Caller;
    try {
      caller = !token
        ? { viewer: null, throttledSeconds: 0 }
        : looksLikeKey(token)
          ? await keyCaller(token, address, db)
          : await sessionCaller(token, db);
    } catch (error) {
      throw callerLookupFailure(error);
    }
    scope.userId = caller.viewer?.principal.id ?? null;
    return new RequestContext({
      scope,
      viewer: caller.viewer,
      invalidToken: token !== null && caller.viewer === null,
      throttledSeconds: caller.throttledSeconds,
      clientAddress: address,
      userAgent: userAgentOf(req),
      db,
      config,
      jobs,
      accessKeys: keys,
      sessions,
    });
  };
}
