import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { requestScope, type RequestScope } from '../database/request-database';
import type { RequestHandler } from './routes';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A well-formed x-request-id from the caller (a proxy) is kept; otherwise one is made. */
function newRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** A fault no handler answered: logged with an id the caller can quote, never described to them. */
function sendInternalError(res: ServerResponse, scope: RequestScope, error: unknown): void {
  const errorId = randomUUID();
  scope.log.error({ err: error, errorId }, 'request failed');
  if (!res.headersSent) {
    res.statusCode = 500;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } }],
      }),
    );
  } else {
    res.end();
  }
}

function logRequest(log: Logger, scope: RequestScope, req: IncomingMessage, res: ServerResponse, started: bigint) {
  if (!log.isLevelEnabled('info')) return;
  scope.log.info(
    {
      method: req.method,
      path: req.url?.split('?')[0],
      status: res.statusCode,
      ms: Number(process.hrtime.bigint() - started) / 1e6,
    },
    'request',
  );
}

/** The route a request went to, as a metrics label: a bounded set, whatever path was asked for. */
export function routeOf(req: IncomingMessage): string {
  const path = req.url?.split('?')[0];
  if (path === '/graphql' || path === '/') return 'graphql';
  if (path === '/healthz' || path === '/readyz') return path.slice(1);
  return 'other';
}

/**
 * Every request gets an id (echoed in x-request-id), a 500 for anything its handler throws, one
 * log line, and is reported to `answered` once answered.
 */
export function requestListener(
  log: Logger,
  handle: RequestHandler,
  answered: (req: IncomingMessage, res: ServerResponse) => void = () => undefined,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = process.hrtime.bigint();
    const scope = requestScope(log, newRequestId(req));
    res.setHeader('x-request-id', scope.requestId);
    handle(req, res, scope)
      .catch((error: unknown) => sendInternalError(res, scope, error))
      .finally(() => {
        logRequest(log, scope, req, res, started);
        answered(req, res);
      });
  };
}
