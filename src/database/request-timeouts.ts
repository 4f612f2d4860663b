import type { Client, ClientBase, PoolConfig } from 'pg';
import type { DatabaseTimeouts } from '../config';

/** pg's message for a statement that outlived query_timeout. */
const READ_TIMEOUT = 'Query read timeout';

type QueryCallback = (error: unknown, result: unknown) => void;

/**
 * pg's query_timeout only stops waiting: the statement stays on the wire, and its connection would
 * go back to the pool still busy with it, to answer the next caller out of turn or to commit,
 * once the server wakes, a transaction its caller was told had failed. The connection is ended
 * instead (pg cuts the socket of a busy client), and the pool drops it when it comes back.
 */
function endAfterReadTimeout(client: Client): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const end = (error: unknown) => {
    if (error instanceof Error && error.message === READ_TIMEOUT) client.end().catch(() => undefined);
  };
  const guarded = (...args: unknown[]): unknown => {
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      args[args.length - 1] = (error: unknown, result: unknown) => {
        end(error);
        (callback as QueryCallback)(error, result);
      };
      return query(...args);
    }
    const result = query(...args);
    // A branch of its own: the caller still receives, and handles, the original rejection.
    if (result instanceof Promise) result.catch(end);
    return result;
  };
  Object.assign(client, { query: guarded });
}

/** pg-pool waits for the promise onConnect returns before it hands the connection out; its types say void. */
interface PoolOptionsWithSetup extends Omit<PoolConfig, 'onConnect'> {
  onConnect: (client: ClientBase) => Promise<void>;
}

/**
 * PostgreSQL has the first word: its cancel leaves the connection usable. The server's own wait
 * ends this much later, for a PostgreSQL that is stuck and cancels nothing.
 */
const CLIENT_GRACE_MS = 250;

/**
 * The request pools' bounds on PostgreSQL's time. PostgreSQL cancels a statement past
 * statement_timeout (57014) and ends a session left idle in a transaction; when PostgreSQL itself
 * is stuck, the server stops waiting a moment later (query_timeout) and drops the connection. The
 * settings are plain SETs on each new connection, not startup options, which poolers such as
 * PgBouncer refuse. Behind a pooler a SET would reach one server session of many: the role's
 * settings (ALTER ROLE … SET statement_timeout, docs/scaling.md) take their place.
 */
export function requestTimeoutOptions(timeouts: DatabaseTimeouts, pooled = false): PoolOptionsWithSetup {
  const settings =
    `SET statement_timeout = ${Math.floor(timeouts.statementMs)}; ` +
    `SET idle_in_transaction_session_timeout = ${Math.floor(timeouts.idleInTransactionMs)}`;
  return {
    query_timeout: timeouts.statementMs + CLIENT_GRACE_MS,
    async onConnect(client) {
      endAfterReadTimeout(client as Client);
      if (!pooled) await client.query(settings);
    },
  };
}
