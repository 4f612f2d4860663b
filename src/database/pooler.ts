import { Client } from 'pg';
import type { PoolerSetting, PreparedStatementSetting } from '../config';

/** What the server does differently behind a transaction pooler such as PgBouncer. */
export interface ConnectionMode {
  /** Consecutive transactions may run on different server sessions: no startup options, no session state. */
  pooled: boolean;
  /** The read path names its prepared statements (each server session plans a text once). */
  namedStatements: boolean;
}

/**
 * Whether `client` talks to PostgreSQL through a pooler: PostgreSQL announces its backend's pid
 * when a session starts, while a pooler announces a key of its own (PgBouncer, pgcat, Odyssey),
 * so the announced pid is not the pid of the session that runs the next statement.
 */
export async function talksThroughPooler(client: Client): Promise<boolean> {
  const announced = (client as unknown as { processID: number | null }).processID;
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return announced !== rows[0].pid;
}

/** Connects once, without startup options (a pooler refuses them), to tell whether `url` leads to a pooler; false when it cannot. */
export async function probePooler(url: string, connectTimeoutMs: number): Promise<boolean> {
  const client = new Client({
    connectionString: url,
    application_name: 'platform-api-probe',
    connectionTimeoutMillis: connectTimeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch {
    // Unreachable: the pools' own connection fails next, with the error the operator expects.
    await client.end().catch(() => undefined);
    return false;
  }
  try {
    return await talksThroughPooler(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function connectionMode(
  url: string | undefined,
  settings: { pooler: PoolerSetting; preparedStatements: PreparedStatementSetting },
  connectTimeoutMs: number,
): Promise<ConnectionMode> {
  const pooled =
    settings.pooler === 'pgbouncer' ||
    (settings.pooler === 'auto' && url !== undefined && (await probePooler(url, connectTimeoutMs)));
  const namedStatements = settings.preparedStatements === 'auto' ? !pooled : settings.preparedStatements === 'named';
  return { pooled, namedStatements };
}
