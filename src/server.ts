import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import { PlatformDataSource } from '../ormconfig';
import { decoyHash } from './auth/passwords';
import type { AppConfig } from './config';
import { CountingQueryLogger } from './database/query-counter';
import { requestListener } from './http/request-listener';
import { router, type Routes } from './http/routes';
import { createLogger } from './logger';
import { startApollo } from './server/apollo';
import { requestContextBuilder } from './server/context';
import { readiness } from './server/readiness';
import { shutdownSequence } from './server/shutdown';
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
  dataSource: PlatformDataSource;
  log: Logger;
  /** Stops accepting, finishes in-flight requests, closes the pool, stops the embedded database. */
  stop(): Promise<void>;
}

/** Migrations are applied at start outside production; production deploys run them explicitly. */
function migrateOnStart(config: AppConfig): boolean {
  const flag = process.env.MIGRATE_ON_START;
  if (flag === 'true') return true;
  if (flag === 'false') return false;
  return config.nodeEnv !== 'production';
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
  const jobs = await startJobs(dataSource, config.jobs, log);
  const httpServer: Server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS });
  // The first unknown e-mail at log-in must not cost less than the next ones.
  await decoyHash();
  const { apollo, trustedDocuments } = await startApollo(config, httpServer, log);
  const shutdown = shutdownSequence(apollo, jobs, dataSource);
  const routes: Routes = {
    production,
    corsOrigins: new Set(config.corsOrigins),
    stopping: () => shutdown.started,
    readiness: () => readiness(dataSource),
    graphql: {
      apollo,
      bodyLimitBytes: config.maxBodyBytes,
      exposeQueryCount: !production,
      exposeLimits: !production,
      context: requestContextBuilder(config, dataSource, jobs),
      trustedDocuments,
    },
  };
  httpServer.on('request', requestListener(log, router(routes)));
  const port = await listen(httpServer, config);
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  return { url: `http://${host}:${port}/graphql`, port, dataSource, log, stop: () => shutdown.stop() };
}

async function listen(httpServer: Server, config: AppConfig): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  return (httpServer.address() as AddressInfo).port;
}
