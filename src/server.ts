import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { Logger } from 'pino';
import { PlatformDataSource } from '../ormconfig';
import type { RequestContext } from './auth/context';
import { verifyAccessToken } from './auth/tokens';
import type { AppConfig } from './config';
import { createLoaders } from './database/loaders';
import { CountingQueryLogger } from './database/query-counter';
import { createErrorFormatter } from './errors';
import { handleGraphQL, sendError } from './http/graphql-handler';
import { securityHeaders } from './http/security-headers';
import { createLogger } from './logger';
import { buildApiSchema } from './schema';
import { Provisioner } from './services/provisioner';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface RunningServer {
  url: string;
  port: number;
  dataSource: PlatformDataSource;
  log: Logger;
  /** Stops accepting, finishes in-flight requests, closes the pool, stops the embedded database. */
  stop(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A well-formed x-request-id from the caller (a proxy) is kept; otherwise one is made. */
function newRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

const requestIds = new WeakMap<IncomingMessage, string>();

function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match ? match[1] : '';
}

/** Migrations are applied at start outside production; production deploys run them explicitly. */
function migrateOnStart(config: AppConfig): boolean {
  const flag = process.env.MIGRATE_ON_START;
  if (flag === 'true') return true;
  if (flag === 'false') return false;
  return config.nodeEnv !== 'production';
}

async function readiness(dataSource: PlatformDataSource): Promise<{ ok: boolean; reason?: string }> {
  try {
    await dataSource.query('SELECT 1');
    if (await dataSource.showMigrations()) return { ok: false, reason: 'migrations pending' };
    return { ok: true };
  } catch {
    return { ok: false, reason: 'database unreachable' };
  }
}

export async function startServer(config: AppConfig): Promise<RunningServer> {
  const log = createLogger(config.logLevel);
  const dataSource = new PlatformDataSource({ storage: config, logger: new CountingQueryLogger(log) });
  await dataSource.initialize();
  try {
    if (migrateOnStart(config)) {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      if (applied.length) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    }
    return await serve(config, dataSource, log);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

async function serve(config: AppConfig, dataSource: PlatformDataSource, log: Logger): Promise<RunningServer> {
  const production = config.nodeEnv === 'production';
  const provisioner = new Provisioner(dataSource, log);
  const httpServer: Server = createServer();
  const apollo = new ApolloServer<RequestContext>({
    schema: await buildApiSchema(),
    introspection: !production || process.env.GRAPHQL_INTROSPECTION === 'true',
    includeStacktraceInErrorResponses: false,
    formatError: createErrorFormatter(log),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
    // main.ts owns the signals: it drains, then closes the pool and the embedded database.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  const context = async (req: IncomingMessage): Promise<RequestContext> => {
    const token = bearerToken(req);
    const userId = token ? await verifyAccessToken(config, token) : null;
    const requestId = requestIds.get(req) ?? randomUUID();
    return {
      requestId,
      viewer: userId ? { userId } : null,
      invalidToken: token !== null && userId === null,
      clientAddress: req.socket.remoteAddress ?? 'unknown',
      db: dataSource,
      config,
      log: log.child({ requestId, userId }),
      loaders: createLoaders(dataSource, userId),
      provisioner,
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = newRequestId(req);
    requestIds.set(req, requestId);
    res.setHeader('x-request-id', requestId);
    securityHeaders(res, production);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ok' }));
      return;
    }
    if (url.pathname === '/readyz') {
      const ready = await readiness(dataSource);
      res.statusCode = ready.ok ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(ready.ok ? { status: 'ready' } : { status: 'unavailable', reason: ready.reason }));
      return;
    }
    if (url.pathname === '/graphql' || url.pathname === '/') {
      await handleGraphQL(req, res, url, {
        apollo,
        bodyLimitBytes: BODY_LIMIT_BYTES,
        exposeQueryCount: !production,
        context,
      });
      return;
    }
    sendError(res, 404, 'NOT_FOUND', 'No such endpoint: use /graphql');
  };

  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    handle(req, res)
      .catch((error: unknown) => {
        const errorId = randomUUID();
        log.error({ err: error, errorId }, 'request failed');
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
      })
      .finally(() => {
        log.info(
          {
            requestId: res.getHeader('x-request-id'),
            method: req.method,
            path: req.url?.split('?')[0],
            status: res.statusCode,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          },
          'request',
        );
      });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const url = `http://${host}:${port}/graphql`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await apollo.stop();
      await provisioner.drain();
      await dataSource.destroy();
    })();
    return stopping;
  };
  return { url, port, dataSource, log, stop };
}
