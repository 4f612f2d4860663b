import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { AppConfig } from '../config';
import { RecentWrites } from '../database/recent-writes';
import { ReplicaSet } from '../database/replicas';
import type { ServerMetrics } from '../metrics/metrics';
import type { RequestContext } from '../request/context';
import { writersOf } from '../request/transaction';

/** The read replicas of one server, and what routes each read-only operation to one of them. */
export interface ReadRouting {
  replicas: ReplicaSet;
  writes: RecentWrites;
  plugin: ApolloServerPlugin<RequestContext>;
  close(): Promise<void>;
}

/**
 * Sends the lean reads of each read-only operation to a healthy replica, unless its caller wrote
 * within READ_YOUR_WRITES_SECONDS (src/database/recent-writes.ts). Mutations, and every read
 * they make, stay on the primary.
 */
function routingPlugin(routing: Omit<ReadRouting, 'plugin' | 'close'>, metrics: ServerMetrics) {
  const listener: GraphQLRequestListener<RequestContext> = {
    didResolveOperation({ operation, contextValue: ctx }) {
      if (operation?.operation !== OperationTypeNode.QUERY) return Promise.resolve();
      const pool = routing.writes.mustReadPrimary(writersOf(ctx)) ? undefined : routing.replicas.pick();
      ctx.scope.readPool = pool;
      metrics.readRouted(pool ? 'replica' : 'primary');
      return Promise.resolve();
    },
  };
  const plugin: ApolloServerPlugin<RequestContext> = { requestDidStart: () => Promise.resolve(listener) };
  return plugin;
}

/** Starts the replicas' health checks and the listener of writes; undefined without DATABASE_REPLICA_URLS. */
export async function startReadRouting(
  config: AppConfig,
  primary: { pool: Pool; pooled: boolean },
  listenUrl: string | undefined,
  metrics: ServerMetrics,
  log: Logger,
): Promise<ReadRouting | undefined> {
  const { topology } = config;
  if (!topology.replicaUrls.length) return undefined;
  const replicas = new ReplicaSet(
    topology.replicaUrls,
    primary.pool,
    {
      maxLagSeconds: topology.replicaMaxLagSeconds,
      poolSize: config.databaseReadPoolSize,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      queryTimeoutMs: config.databaseTimeouts.statementMs,
      // Replicas are reached as the primary is: directly (startup options), or through a pooler.
      genericPlans: !primary.pooled && topology.preparedStatements !== 'unnamed',
    },
    log,
  );
  await replicas.start();
  const writes = new RecentWrites(topology.readYourWritesSeconds * 1000, log);
  if (writes.windowMs === 0) log.info('READ_YOUR_WRITES_SECONDS=0: a caller may not see its own write on a replica');
  else if (listenUrl) writes.listen(listenUrl);
  else
    log.warn('read replicas need a LISTEN connection (DATABASE_DIRECT_URL behind a pooler): reads go to the primary');
  metrics.reportReplicas(() => replicas.states());
  return {
    replicas,
    writes,
    plugin: routingPlugin({ replicas, writes }, metrics),
    close: async () => {
      await writes.close();
      await replicas.stop();
    },
  };
}
