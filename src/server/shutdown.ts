import type { ApolloServer } from '@apollo/server';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { RequestContext } from '../request/context';
import type { JobQueue } from '../jobs/job-queue';

export interface Shutdown {
  /** True from the moment `stop` is called: /readyz answers 503, requests are still served. */
  readonly draining: boolean;
  /** True once the delay is over: the server stops accepting, and refuses what still arrives. */
  readonly started: boolean;
  /** The one shutdown, however often it is asked for. */
  stop(): Promise<void>;
}

export interface ShutdownParts {
  apollo: ApolloServer<RequestContext>;
  jobs: JobQueue;
  dataSource: DataSource;
  /** How long the server goes on serving once /readyz answers 503 (SHUTDOWN_DELAY_MS). */
  delayMs: number;
  /** What closes just before the database: listeners of its own, writes in flight. */
  beforeDatabase?: () => Promise<void>;
  /** What else closes after the database: the metrics listener, so the drain can be watched to the end. */
  afterwards?: () => Promise<void>;
}

/**
 * First the load balancers are told (readiness fails) while the server keeps serving for the
 * delay, so that they stop sending before connections are refused. Then Apollo drains the HTTP
 * server (it stops accepting, closes idle keep-alive sockets, lets in-flight requests finish),
 * then the job queue (jobs in flight finish; the rest wait in the database for any worker), then the pool (and the embedded database, if any).
 */
export function shutdownSequence(parts: ShutdownParts): Shutdown {
  let stopping: Promise<void> | undefined;
  let delayOver = false;
  return {
    get draining() {
      return stopping !== undefined;
    },
    get started() {
      return delayOver;
    },
    stop() {
      stopping ??= (async () => {
        if (parts.delayMs > 0) await sleep(parts.delayMs);
        delayOver = true;
        try {
          await parts.apollo.stop();
          await parts.jobs.stop();
          await parts.beforeDatabase?.();
          await parts.dataSource.destroy();
        } finally {
          await parts.afterwards?.();
        }
      })();
      return stopping;
    },
  };
}
