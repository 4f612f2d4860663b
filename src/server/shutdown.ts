import type { ApolloServer } from '@apollo/server';
import type { DataSource } from 'typeorm';
import type { RequestContext } from '../request/context';
import type { JobQueue } from '../jobs/job-queue';

export interface Shutdown {
  /** True once `stop` has been called: new requests are refused from then on. */
  readonly started: boolean;
  /** The one shutdown, however often it is asked for. */
  stop(): Promise<void>;
}

/**
 * Apollo first (it drains the HTTP server: in-flight requests finish), then the job queue (jobs
 * in flight finish; the rest wait in the database for any worker), then the pool (and the
 * embedded database, if any).
 */
export function shutdownSequence(
  apollo: ApolloServer<RequestContext>,
  jobs: JobQueue,
  dataSource: DataSource,
): Shutdown {
  let stopping: Promise<void> | undefined;
  return {
    get started() {
      return stopping !== undefined;
    },
    stop() {
      stopping ??= (async () => {
        await apollo.stop();
        await jobs.stop();
        await dataSource.destroy();
      })();
      return stopping;
    },
  };
}
