import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server';
import { createDatabase, dropDatabase } from './database';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data: T | null;
  errors?: { message: string; path?: string[]; extensions: { code: string; [key: string]: unknown } }[];
}

export interface TestApp {
  server: RunningServer;
  databaseUrl: string;
  /** Sends a GraphQL document with variables through HTTP, as `token`'s bearer when given. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<GraphQLResponse<T>>;
  /** Runs SQL directly, to check what a request did (or did not) write. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * The real server on a port of its own, over a freshly migrated database of this test file's own.
 * Every test signs up and logs in from one address: log-in throttling is off unless `env` sets it.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: ServerOptions = {},
  /** Another app whose database this one shares, as a second replica (that app drops the database). */
  replicaOf?: TestApp,
): Promise<TestApp> {
  const databaseUrl = replicaOf?.databaseUrl ?? (await createDatabase({ migrated: true }));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    AUTH_RATE_LIMIT_PER_ACCOUNT: '1000000',
    AUTH_RATE_LIMIT_PER_ADDRESS: '1000000',
    // The database is a copy of the migrated template: nothing to apply.
    MIGRATE_ON_START: 'false',
    // Mail is sent only where a test runs an SMTP server (SMTP_URL); elsewhere no `.eml` files pile up.
    MAIL_DISABLED: 'true',
    ...env,
  });
  const server = await startServer(config, options);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('SET search_path = platform');
  return {
    server,
    databaseUrl,
    async gql(query, variables, token) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: GraphQLResponse['errors'] };
      return {
        status: response.status,
        headers: response.headers,
        data: (body.data ?? null) as never,
        errors: body.errors,
      };
    },
    async sql<T>(text: string, params?: unknown[]) {
      return (await client.query(text, params)).rows as T[];
    },
    async close() {
      await client.end();
      await server.stop();
      if (!replicaOf) await dropDatabase(databaseUrl);
    },
  };
}
