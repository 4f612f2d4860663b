import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { DestinationStream, Logger } from 'pino';
import { PlatformDataSource } from '../ormconfig';
import type { RequestContext } from './request/context';
import { decoyHash } from './auth/passwords';
import { cachedTokenVerifier } from './auth/tokens';
import type { AppConfig } from './config';
import { createLoaders } from './request/loaders';
import { CountingQueryLogger } from './database/query-counter';
import { requestDatabase, requestScope, type RequestScope } from './database/request-database';
import { createErrorFormatter, serverFaultLogPlugin } from './errors';
import { handleCors } from './http/cors';
import { handleGraphQL, sendError } from './http/graphql-handler';
import { securityHeaders } from './http/security-headers';
import { createLogger } from './logger';
import { buildApiSchema } from './schema';
import { compiledExecution } from './graphql/compiled-executor';
import { clientAddress } from './security/client-address';
import { inputHygienePlugin } from './security/input-hygiene';
import { executionCostPlugin, queryLimitRules } from './security/query-limits';
import { DEFAULT_PAGE_SIZE } from './graphql/pagination';
import { Provisioner } from './services/provisioner';

/** A client has this long to send its request headers, and this long for the whole request. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** /readyz answers within this, whatever state the database is in. */
const READINESS_TIMEOUT_MS = 800;

export interface ServerOptions {
  /** Where log lines go (standard output by default). */
  logDestination?: DestinationStream;
}

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
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: boolean; reason: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: 'database unreachable' }), READINESS_TIMEOUT_MS);
  });
  const check = (async () => {
    try {
      const status = await dataSource.migrationStatus();
      if (status.pending.length) return { ok: false, reason: 'migrations pending' };
      if (status.problems.length) return { ok: false, reason: 'migration history disagrees with the code' };
      return { ok: true };
    } catch {
      return { ok: false, reason: 'database unreachable' };
    }
  })();
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startServer(config: AppConfig, options: ServerOptions = {}): Promise<RunningServer> {
  const log = createLogger(config.logLevel, options.logDestination);
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
  const httpServer: Server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS });
  const corsOrigins = new Set(config.corsOrigins);
  // The first unknown e-mail at log-in must not cost less than the next ones.
  await decoyHash();
  const schema = await buildApiSchema();
  const apollo = new ApolloServer<RequestContext>({
    ...(config.compiledQueries ? { gateway: compiledExecution(schema) } : { schema }),
    introspection: config.introspection,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    // Apollo's default, stated: a simple request (a form, a GET without a preflight header) is refused.
    csrfPrevention: true,
    // No automatic persisted queries: clients cannot fill the server's cache with documents.
    persistedQueries: false,
    parseOptions: { maxTokens: config.queryLimits.maxTokens },
    validationRules: queryLimitRules(config.queryLimits, production),
    formatError: createErrorFormatter(log, { production }),
    logger: log,
    plugins: [
      // In-flight requests get most of the shutdown timeout; then their connections are cut.
      ApolloServerPluginDrainHttpServer({
        httpServer,
        stopGracePeriodMillis: Math.floor(config.shutdownTimeoutMs * 0.8),
      }),
      // No cache hints are set or sent; the default plugin would still wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      serverFaultLogPlugin(),
      inputHygienePlugin(),
      executionCostPlugin(
        config.queryLimits.maxExecutionCost,
        { default: DEFAULT_PAGE_SIZE, max: config.maxPageSize },
        production,
      ),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
    // main.ts owns the signals: it drains, then closes the pool and the embedded database.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  const verifyToken = cachedTokenVerifier(config);
  const context = async (req: IncomingMessage, scope: RequestScope): Promise<RequestContext> => {
    const token = bearerToken(req);
    const userId = token ? await verifyToken(token) : null;
    scope.userId = userId;
    const db = requestDatabase(dataSource, scope);
    return {
      scope,
      viewer: userId ? { userId } : null,
      invalidToken: token !== null && userId === null,
      clientAddress: clientAddress(req, config.trustProxyHops),
      db,
      config,
      loaders: createLoaders(db, userId),
      provisioner,
    };
  };

  let stopping: Promise<void> | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse, scope: RequestScope): Promise<void> => {
    securityHeaders(res, production);
    if (stopping) {
      // Shutting down: what is in flight finishes, nothing new starts.
      res.setHeader('connection', 'close');
      sendError(res, 503, 'SERVICE_UNAVAILABLE', 'The server is shutting down; try again shortly');
      return;
    }
    if (handleCors(req, res, corsOrigins)) return;
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
      await handleGraphQL(req, res, url, scope, {
        apollo,
        bodyLimitBytes: config.maxBodyBytes,
        exposeQueryCount: !production,
        exposeLimits: !production,
        context,
      });
      return;
    }
    sendError(res, 404, 'NOT_FOUND', 'No such endpoint: use /graphql');
  };

  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const scope = requestScope(log, newRequestId(req));
    res.setHeader('x-request-id', scope.requestId);
    serveRequest(req, res, scope, started);
  });

  const serveRequest = (req: IncomingMessage, res: ServerResponse, scope: RequestScope, started: bigint): void => {
    handle(req, res, scope)
      .catch((error: unknown) => {
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
      })
      .finally(() => {
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
      });
  };

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const url = `http://${host}:${port}/graphql`;

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
