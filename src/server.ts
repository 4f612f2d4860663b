import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { DestinationStream, Logger } from 'pino';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { PlatformDataSource } from '../ormconfig';
import { AccessKeyVerifier } from './auth/access-keys';
import { SessionVerifier } from './auth/sessions';
import { decoyHash } from './auth/passwords';
import type { AppConfig } from './config';
import { CountingQueryLogger } from './database/query-counter';
import { requestListener, routeOf } from './http/request-listener';
import { router, type Routes } from './http/routes';
import { createLogger } from './logger';
import { graphqlMetricsPlugin } from './metrics/graphql-metrics-plugin';
import { noMetrics, prometheusMetrics, type ServerMetrics } from './metrics/metrics';
import { listenForMetrics, type MetricsListener } from './metrics/metrics-listener';
import { startApollo } from './server/apollo';
import { startReadRouting, type ReadRouting } from './server/read-routing';
import { requestContextBuilder } from './server/context';
import { readinessProbe } from './server/readiness';
import { shutdownSequence } from './server/shutdown';
import type { JobQueue } from './jobs/job-queue';
import { startJobs } from './jobs/workers';

/** A client has this long to send its request headers, and this long for the whole request. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  /** Where log lines go (standard output by default). */
  logDestination?: DestinationStream;
}

export interface RunningServer {
  url: string;
  port: number;
  /** The Prometheus listener's port, when METRICS_PORT is set. */
  metricsPort: number | undefined;
  dataSource: PlatformDataSource;
  log: Logger;
  /** What the server records (the job queue reports through `metrics.jobs`); no-ops when metrics are off. */
  metrics: ServerMetrics;
  /**
   * The one shutdown: /readyz answers 503 at once, requests are served for SHUTDOWN_DELAY_MS, then
   * the server stops accepting, finishes in-flight requests, closes the pool and the embedded database.
   */
  stop(): Promise<void>;
}

/**
 * Migrations run on connections of their own, without the request timeouts: a migration may
 * rightly take longer than any request. Joins the database the server's DataSource opened.
 */
async function migrate(config: AppConfig, dataSource: PlatformDataSource, log: Logger): Promise<void> {
  const url = (dataSource.options as PostgresDataSourceOptions).url;
  const migrations = new PlatformDataSource({
    storage: { ...config, databaseUrl: url },
    logger: new CountingQueryLogger(log),
    poolSize: 2,
    applicationName: 'platform-api-migrate',
    forMigrations: true,
  });
  await migrations.initialize();
  try {
    const applied = await migrations.runMigrations({ transaction: 'each' });
    if (applied.length) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await migrations.destroy();
  }
}

export async function startServer(config: AppConfig, options: ServerOptions = {}): Promise<RunningServer> {
  const log = createLogger(config.logLevel, options.logDestination);
  const dataSource = new PlatformDataSource({
    storage: config,
    logger: new CountingQueryLogger(log),
    requestTimeouts: config.databaseTimeouts,
    searchPath: false,
  });
  await dataSource.initialize();
  try {
    if (config.migrateOnStart) await migrate(config, dataSource, log);
    return await serve(config, dataSource, log);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

function serverMetrics(config: AppConfig): ServerMetrics {
  if (config.metricsPort === undefined) return noMetrics;
  return prometheusMetrics();
}

function poolsOf(dataSource: PlatformDataSource): Record<string, Pool | undefined> {
  return { main: (dataSource.driver as PostgresDriver).master as Pool | undefined, read: dataSource.leanReadPool };
}

/** What runs beside the HTTP server: the job queue, the metrics, the read replicas. */
interface Services {
  jobs: JobQueue;
  metrics: ServerMetrics;
  routing: ReadRouting | undefined;
}

async function serve(config: AppConfig, dataSource: PlatformDataSource, log: Logger): Promise<RunningServer> {
  const jobs = await startJobs(dataSource, config.jobs, log);
  let routing: ReadRouting | undefined;
  try {
    const metrics = serverMetrics(config);
    const primary = {
      pool: (dataSource.driver as PostgresDriver).master as Pool,
      pooled: dataSource.connectionMode.pooled,
    };
    routing = await startReadRouting(config, primary, notificationUrl(config, dataSource), metrics, log);
    const replicaPools = routing?.replicas.pools() ?? {};
    metrics.reportPools(() => ({ ...poolsOf(dataSource), ...replicaPools }));
    return await serveWithJobs(config, dataSource, log, { jobs, metrics, routing });
  } catch (error) {
    // A start that fails after the queue started stops it: its timers would keep the process alive.
    await routing?.close();
    await jobs.stop();
    throw error;
  }
}

async function serveWithJobs(
  config: AppConfig,
  dataSource: PlatformDataSource,
  log: Logger,
  { jobs, metrics, routing }: Services,
): Promise<RunningServer> {
  const production = config.nodeEnv === 'production';
  metrics.jobs.reportQueueDepth(() => jobs.waiting());
  jobs.onGaveUp((name) => metrics.jobs.failed(name));
  const httpServer: Server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS });
  // The first unknown e-mail at log-in must not cost less than the next ones.
  await decoyHash();
  const { apollo, trustedDocuments } = await startApollo(config, httpServer, log, [
    ...(metrics.registry ? [graphqlMetricsPlugin(metrics)] : []),
    ...(routing ? [routing.plugin] : []),
  ]);
  let metricsListener: MetricsListener | undefined;
  const memories = revocationMemories(dataSource, log);
  const shutdown = shutdownSequence({
    apollo,
    jobs,
    dataSource,
    delayMs: config.shutdownDelayMs,
    beforeDatabase: async () => {
      await memories.close();
      await routing?.close();
    },
    afterwards: async () => metricsListener?.close(),
  });
  const routes: Routes = {
    production,
    corsOrigins: new Set(config.corsOrigins),
    draining: () => shutdown.draining,
    stopping: () => shutdown.started,
    readiness: readinessProbe(dataSource, log),
    graphql: {
      apollo,
      bodyLimitBytes: config.maxBodyBytes,
      exposeQueryCount: !production,
      exposeLimits: !production,
      context: requestContextBuilder(config, dataSource, jobs, memories.accessKeys, memories.sessions, routing),
      trustedDocuments,
    },
  };
  const answered = (req: IncomingMessage, res: ServerResponse) => metrics.httpResponse(routeOf(req), res.statusCode);
  httpServer.on('request', requestListener(log, router(routes), answered));
  const port = await listen(httpServer, config.port, config.host);
  if (metrics.registry && config.metricsPort !== undefined) {
    metricsListener = await listenForMetrics(metrics.registry, config.metricsPort, config.host).catch((error) => {
      httpServer.close();
      throw error;
    });
  }
  memories.listen(notificationUrl(config, dataSource));
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    metricsPort: metricsListener?.port,
    dataSource,
    log,
    metrics,
    stop: () => shutdown.stop(),
  };
}

/** What this process remembers of keys and sessions, forgotten on the revocations every replica hears. */
function revocationMemories(dataSource: PlatformDataSource, log: Logger) {
  const accessKeys = new AccessKeyVerifier(dataSource, log);
  const sessions = new SessionVerifier(log);
  return {
    accessKeys,
    sessions,
    /** Without a session to LISTEN on, keys are read on every request and sessions until seen revoked. */
    listen(url: string | undefined) {
      if (!url) {
        log.warn(
          'behind a pooler without DATABASE_DIRECT_URL: keys and sessions are read on every request (no LISTEN)',
        );
        return;
      }
      accessKeys.listen(url);
      sessions.listen(url);
    },
    async close() {
      await accessKeys.close();
      await sessions.close();
    },
  };
}

/**
 * Where LISTEN can run: a session of its own on the primary. Behind a transaction pooler that is
 * DATABASE_DIRECT_URL (or MIGRATION_DATABASE_URL); without one, nothing listens and the caches
 * that rely on notifications keep nothing (docs/scaling.md).
 */
export function notificationUrl(config: AppConfig, dataSource: PlatformDataSource): string | undefined {
  if (config.topology.directUrl) return config.topology.directUrl;
  if (dataSource.connectionMode.pooled) return undefined;
  return (dataSource.options as PostgresDataSourceOptions).url;
}

async function listen(httpServer: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  return (httpServer.address() as AddressInfo).port;
}
