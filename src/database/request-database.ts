import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import { QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { WriteTracking } from './recent-writes';

/** What the database layer knows of the request it serves: its log and its statement count. */
export interface RequestScope {
  requestId: string;
  /** The signed-in caller, once known: lines logged after that carry it too. */
  userId?: string | null;
  /** The request's logger: every line carries the request id. */
  readonly log: Logger;
  /** Statements sent to PostgreSQL for this request so far. */
  statements: number;
  /** The replica's pool that serves this request's lean reads (a read-only operation); unset: the primary. */
  readPool?: Pool;
  /** With read replicas: how this request's writes are made known to every process (read-your-writes). */
  writes?: WriteTracking;
  /** With read replicas: a replica's pool lost its connection (that replica is skipped). */
  replicaLost?: (pool: Pool) => void;
}

/**
 * A scope whose logger is made on first use: most requests never log below the configured level.
 * A class, not an object literal with a getter: V8 allocates the pair holding an object's own
 * accessors in the old generation, one per request, freed only by a full collection.
 */
class LazyLogScope implements RequestScope {
  statements = 0;
  readPool?: Pool = undefined;
  writes?: WriteTracking = undefined;
  replicaLost?: (pool: Pool) => void = undefined;
  userId?: string | null;
  private logger?: Logger;
  private boundUserId?: string | null;

  constructor(
    private readonly base: Logger,
    readonly requestId: string,
  ) {}

  get log(): Logger {
    if (!this.logger || this.boundUserId !== this.userId) {
      this.boundUserId = this.userId;
      const bindings = this.boundUserId
        ? { requestId: this.requestId, userId: this.boundUserId }
        : { requestId: this.requestId };
      this.logger = this.base.child(bindings);
    }
    return this.logger;
  }
}

export function requestScope(base: Logger, requestId: string): RequestScope {
  return new LazyLogScope(base, requestId);
}

/** The scope of the request a query runner works for, if any. */
export function scopeOf(queryRunner: QueryRunner | undefined): RequestScope | undefined {
  return (queryRunner?.data as { requestScope?: RequestScope } | undefined)?.requestScope;
}

/**
 * The database as one request sees it: the same pool, entities and settings, but every query
 * runner it opens (for raw queries, repositories, query builders and transactions alike)
 * carries the request's scope, so the query logger counts and logs each statement for the
 * request that ran it. This replaces AsyncLocalStorage, whose promise hooks (on Node 20) tax
 * every promise of every request.
 */
export function requestDatabase<T extends DataSource>(dataSource: T, scope: RequestScope): T {
  const db = Object.create(requestPrototype(dataSource)) as ScopedDatabase;
  db.requestScope = scope;
  return db as unknown as T;
}

interface ScopedDatabase {
  requestScope: RequestScope;
  scopedManager?: EntityManager;
}

/** What every request's view adds to the DataSource, built once per DataSource. */
const prototypes = new WeakMap<DataSource, object>();

function requestPrototype(dataSource: DataSource): object {
  let prototype = prototypes.get(dataSource);
  if (!prototype) {
    prototype = Object.create(dataSource, {
      // EntityManager and its repositories reach queries through `connection.createQueryRunner`.
      manager: {
        get(this: ScopedDatabase & DataSource) {
          return (this.scopedManager ??= dataSource.createEntityManager.call(this));
        },
      },
      createQueryRunner: {
        value(this: ScopedDatabase & DataSource, mode?: 'master' | 'slave'): QueryRunner {
          const queryRunner = dataSource.createQueryRunner.call(this, mode);
          queryRunner.data = { ...queryRunner.data, requestScope: this.requestScope };
          return queryRunner;
        },
      },
    }) as object;
    prototypes.set(dataSource, prototype);
  }
  return prototype;
}

/** Past this many distinct texts, statements go unnamed: a text built from values must not grow every connection's cache. */
const MAX_NAMED_STATEMENTS = 500;
const statementNames = new Map<string, string>();

function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (!name && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `lean_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** What leanQuery reads of the DataSource (a PlatformDataSource) and of the request's scope. */
interface LeanSource {
  requestScope?: RequestScope;
  leanReadPool?: Pool;
  connectionMode?: { namedStatements: boolean };
}

/**
 * The lean read path's one way to PostgreSQL: raw rows from the pool (a replica's, when the
 * request's scope chose one), as a named prepared statement, so each connection parses and plans
 * each of these texts once instead of on every request (planning was most of PostgreSQL's time
 * per request). Behind a transaction pooler statements go unnamed (DATABASE_PREPARED_STATEMENTS):
 * PgBouncer before 1.21 would hand a name prepared on one server session to another. Values must travel as
 * parameters. Counted and logged like TypeORM's statements, for the request whose view `db` is;
 * failures are TypeORM's QueryFailedError, as elsewhere.
 */
export async function leanQuery<T = Record<string, unknown>>(
  db: DataSource,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const runner = { data: { requestScope: (db as Partial<ScopedDatabase>).requestScope } } as unknown as QueryRunner;
  db.logger.logQuery(sql, params, runner);
  const source = db as LeanSource;
  const pool = source.requestScope?.readPool ?? source.leanReadPool ?? ((db.driver as PostgresDriver).master as Pool);
  const name = source.connectionMode?.namedStatements === false ? undefined : statementName(sql);
  try {
    return await preparedOnce<T>(pool, name, sql, params);
  } catch (error) {
    if (pool === source.requestScope?.readPool && connectionFailed(error))
      return leanQueryOnPrimary(db, sql, params, pool);
    db.logger.logQueryError(error as Error, sql, params, runner);
    throw new QueryFailedError(sql, params, error as Error);
  }
}

/** No answer from PostgreSQL (connection refused or lost): not an error of the statement. */
function connectionFailed(error: unknown): boolean {
  const { severity } = error as { severity?: string };
  return severity === undefined || severity === 'FATAL';
}

/** A replica that failed the request's read: it is skipped from now on, and the primary answers. */
function leanQueryOnPrimary<T>(db: DataSource, sql: string, params: unknown[], failed: Pool): Promise<T[]> {
  const scope = (db as LeanSource).requestScope as RequestScope;
  scope.readPool = undefined;
  scope.replicaLost?.(failed);
  return leanQuery<T>(db, sql, params);
}

/**
 * A statement's rows, through pg's callback form rather than its promise form: through pg's
 * promise, each request's rows outlive the young collections after it and are promoted to wait
 * for a full collection (docs/performance.md). Where pg's promise path keeps them was not found.
 */
function rowsOf<T>(client: PoolClient, config: QueryConfig): Promise<T[]> {
  return new Promise((resolve, reject) => {
    client.query<T & QueryResultRow>(config, (error, result) => (error ? reject(error) : resolve(result.rows)));
  });
}

/** A prepared statement whose result columns changed type under it (a migration ran). */
const STALE_STATEMENT = new Set(['0A000', '26000']);

/**
 * A migration that changes the type of a column a prepared statement returns makes PostgreSQL
 * refuse that statement on every connection that prepared it. The connection is then closed
 * (taking its prepared statements with it) and the statement runs once more, unnamed.
 */
async function preparedOnce<T>(pool: Pool, name: string | undefined, text: string, values: unknown[]): Promise<T[]> {
  const client = await pool.connect();
  try {
    const rows = await rowsOf<T>(client, { name, text, values });
    client.release();
    return rows;
  } catch (error) {
    const { code, severity } = error as { code?: string; severity?: string };
    const stale = name !== undefined && STALE_STATEMENT.has(code ?? '');
    // Only an error PostgreSQL answered for the statement leaves the connection usable: one it
    // did not answer, or a FATAL one (the session is ending), closes it.
    const broken = severity === undefined || severity === 'FATAL' || severity === 'PANIC';
    client.release(stale || broken ? (error as Error) : undefined);
    if (!stale) throw error;
    return (await pool.query<T & QueryResultRow>({ text, values })).rows;
  }
}
