import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestScope } from '../database/request-database';
import { handleCors } from './cors';
import { handleGraphiQL } from './graphiql';
import { handleGraphQL, sendError, type GraphQLHandlerOptions } from './graphql-handler';
import { securityHeaders } from './security-headers';

export interface Readiness {
  ok: boolean;
  reason?: string;
  /** Applied migrations newer than the code (a newer release is rolling out): still ready. */
  newerMigrations?: string[];
}

export interface Routes {
  production: boolean;
  corsOrigins: ReadonlySet<string>;
  /** True from SIGTERM on: /readyz answers 503 while requests are still served, for the shutdown delay. */
  draining: () => boolean;
  /** True once the delay is over: the server is closing, and refuses new requests. */
  stopping: () => boolean;
  /** What /readyz reports. */
  readiness: () => Promise<Readiness>;
  graphql: GraphQLHandlerOptions;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse, scope: RequestScope) => Promise<void>;

/** The answer of /healthz and /readyz: a status code and a small JSON body. */
function answerProbe(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

async function answerReadiness(res: ServerResponse, routes: Routes): Promise<void> {
  if (routes.draining()) {
    answerProbe(res, 503, { status: 'unavailable', reason: 'shutting down' });
    return;
  }
  const ready = await routes.readiness();
  if (!ready.ok) {
    answerProbe(res, 503, { status: 'unavailable', reason: ready.reason });
    return;
  }
  answerProbe(res, 200, { status: 'ready', reason: ready.reason, newerMigrations: ready.newerMigrations });
}

/** The endpoints: /healthz, /readyz, /graphql (and /), /graphiql outside production, and a 404 for anything else. */
export function router(routes: Routes): RequestHandler {
  return async (req, res, scope) => {
    securityHeaders(res, routes.production);
    if (routes.stopping()) {
      // Shutting down: what is in flight finishes, nothing new starts.
      res.setHeader('connection', 'close');
      sendError(res, 503, 'SERVICE_UNAVAILABLE', 'The server is shutting down; try again shortly');
      return;
    }
    // Served during the shutdown delay, but each connection is closed after its answer: a
    // client opens its next one through the load balancer, to a replica that stays.
    if (routes.draining()) res.setHeader('connection', 'close');
    if (handleCors(req, res, routes.corsOrigins)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      answerProbe(res, 200, { status: 'ok' });
      return;
    }
    if (url.pathname === '/readyz') {
      await answerReadiness(res, routes);
      return;
    }
    if (url.pathname === '/graphql' || url.pathname === '/') {
      await handleGraphQL(req, res, url, scope, routes.graphql);
      return;
    }
    if (!routes.production && (await handleGraphiQL(req, res, url))) return;
    sendError(res, 404, 'NOT_FOUND', 'No such endpoint: use /graphql');
  };
}
