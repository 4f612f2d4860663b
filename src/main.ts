// First: it sizes libuv's thread pool, before anything uses it.
import './thread-pool';
import './v8-flags';
import 'reflect-metadata';
import { ConfigError, loadConfig, requireMailDelivery, type AppConfig } from './config';
import { EmbeddedPostgresMissingError } from './database/embedded-postgres';
import type { RunningServer } from './server';

/** SIGTERM and SIGINT run the server's one shutdown; a repeated signal does not cut it short. */
function onSignals(server: RunningServer, config: AppConfig): void {
  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    server.log.info(
      { signal, delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs },
      'shutting down: /readyz answers 503; serving through the delay, then finishing in-flight requests',
    );
    // The timeout bounds what follows the delay: the drain and the closing.
    const deadline = setTimeout(() => {
      server.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, config.shutdownDelayMs + config.shutdownTimeoutMs);
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

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  requireMailDelivery(config.nodeEnv, config.jobs.mail);
  // Loaded once the configuration holds: a bad setting is one line naming it, not a stack trace
  // from a module that reads the environment as it loads (ormconfig.ts does, for the CLI).
  const { startServer } = await import('./server.js');
  const server = await startServer(config);
  server.log.info(
    {
      url: server.url,
      database: config.databaseUrl ? 'DATABASE_URL' : 'embedded',
      metricsPort: server.metricsPort,
      ms: Date.now() - started,
    },
    `Platform API ready at ${server.url}`,
  );
  onSignals(server, config);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof EmbeddedPostgresMissingError) {
    console.error(error.message);
  } else {
    console.error('Platform API failed to start:', error instanceof Error ? (error.stack ?? error.message) : error);
  }
  process.exit(1);
});
