// First: it sizes libuv's thread pool, before anything uses it.
import './thread-pool';
import './v8-flags';
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { startServer } from './server';

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const server = await startServer(config);
  server.log.info(
    { url: server.url, database: config.databaseUrl ? 'DATABASE_URL' : 'embedded', ms: Date.now() - started },
    `Platform API ready at ${server.url}`,
  );

  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    // A repeated signal does not cut the drain short: the shutdown timeout bounds it.
    if (shuttingDown) return;
    shuttingDown = true;
    server.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const deadline = setTimeout(() => {
      server.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('Platform API failed to start:', error instanceof Error ? (error.stack ?? error.message) : error);
  }
  process.exit(1);
});
