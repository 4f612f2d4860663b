import type { IncomingMessage } from 'node:http';
import type { DataSource } from 'typeorm';
import { cachedTokenVerifier } from '../auth/tokens';
import type { AppConfig } from '../config';
import { requestDatabase, type RequestScope } from '../database/request-database';
import { RequestContext } from '../request/context';
import type { JobEnqueuer } from '../request/jobs';
import { clientAddress } from '../security/client-address';

export type ContextBuilder = (req: IncomingMessage, scope: RequestScope) => Promise<RequestContext>;

/** The bearer token sent, '' for a malformed Authorization header, null for none. */
function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1] : '';
}

/** Builds each request's context: its caller from the bearer token, its database handle and loaders. */
export function requestContextBuilder(config: AppConfig, dataSource: DataSource, jobs: JobEnqueuer): ContextBuilder {
  const verifyToken = cachedTokenVerifier(config);
  return async (req, scope) => {
    const token = bearerToken(req);
    const userId = token ? await verifyToken(token) : null;
    scope.userId = userId;
    const db = requestDatabase(dataSource, scope);
    return new RequestContext({
      scope,
      viewer: userId ? { userId } : null,
      invalidToken: token !== null && userId === null,
      clientAddress: clientAddress(req, config.trustProxyHops),
      db,
      config,
      jobs,
    });
  };
}
